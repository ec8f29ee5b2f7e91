import type { FdtProperty } from './property.js';

/** One node of the tree: its full name, its properties and children in blob order. */
export class FdtNode {
  /** Full name including any `@unit-address`; '' for the root. */
  readonly name: string;
  readonly properties: FdtProperty[] = [];
  readonly children: FdtNode[] = [];
  readonly parent: FdtNode | null;
  #path: string | undefined;

  constructor(name: string, parent: FdtNode | null) {
    this.name = name;
    this.parent = parent;
  }

  /** The name without its unit address: 'uart' for 'uart@10000000'. */
  get path(): string {
    if (this.#path === undefined) {
      const parts: string[] = [];
      for (let n: FdtNode | null = this; n !== null && n.parent !== null; n = n.parent) parts.push(n.name);
      this.#path = parts.length === 0 ? '/' : `/${parts.reverse().join('/')}`;
    }
    return this.#path;
  }

  /** The first property with this name. */
  prop(name: string): FdtProperty | undefined {
    const props = this.properties;
    for (let i = 0; i < props.length; i++) if (props[i].name === name) return props[i];
    return undefined;
  }

  /**
   * The child with this exact name; failing that, when `name` has no unit address, the first
   * child whose base name it is ('memory' finds 'memory@80000000'), as libfdt does.
   */
  child(name: string): FdtNode | undefined {
    const kids = this.children;
    for (let i = 0; i < kids.length; i++) if (kids[i].name === name) return kids[i];
    if (name.indexOf('@') >= 0) return undefined;
    for (let i = 0; i < kids.length; i++) {
      const n = kids[i].name;
      if (n.length > name.length && n.charCodeAt(name.length) === 0x40 && n.startsWith(name)) return kids[i];
    }
    return undefined;
  }

}

/** A node's name without its unit address: `serial` for `serial@10000000`. */
export function baseName(node: FdtNode): string {
  const at = node.name.indexOf('@');
  return at < 0 ? node.name : node.name.slice(0, at);
}

/** A node's unit address (`10000000` for `serial@10000000`), if it has one. */
export function unitAddress(node: FdtNode): string | undefined {
  const at = node.name.indexOf('@');
  return at < 0 ? undefined : node.name.slice(at + 1);
}
