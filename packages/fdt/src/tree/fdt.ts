import { encodeUtf8 } from '../text/utf8.js';
import type { FdtNode } from './node.js';

export interface MemoryReservation {
  readonly address: bigint;
  readonly size: bigint;
}

export interface FdtInit {
  readonly version: number;
  readonly lastCompatibleVersion: number;
  readonly bootCpuId: number;
  readonly totalSize: number;
  readonly memReserve: ReadonlyArray<MemoryReservation>;
  readonly root: FdtNode;
  /** Every node in document order (the parser has it already); derived from root if absent. */
  readonly nodes?: readonly FdtNode[];
}

/** A parsed device tree: the header's facts, the reserved memory and the node tree. */
export class Fdt {
  readonly version: number;
  readonly lastCompatibleVersion: number;
  readonly bootCpuId: number;
  readonly totalSize: number;
  readonly memReserve: ReadonlyArray<MemoryReservation>;
  readonly root: FdtNode;
  readonly #nodes: readonly FdtNode[];

  constructor(init: FdtInit) {
    this.version = init.version;
    this.lastCompatibleVersion = init.lastCompatibleVersion;
    this.bootCpuId = init.bootCpuId;
    this.totalSize = init.totalSize;
    this.memReserve = init.memReserve;
    this.root = init.root;
    this.#nodes = init.nodes ?? documentOrder(init.root);
  }

  /**
   * The node at an absolute path ('/soc/serial@10000000'; a unit address may be left out when
   * the base name is enough: '/memory'), or at a path that starts with an alias from /aliases
   * ('serial0', 'virtio0/child'). A ':options' suffix, as stdout-path carries, is ignored.
   */
  node(path: string): FdtNode | undefined {
    const colon = path.indexOf(':');
    if (colon >= 0) path = path.slice(0, colon);
    if (path.length === 0) return undefined;
    if (path.charCodeAt(0) === 0x2f) return descend(this.root, path, 1);
    const slash = path.indexOf('/');
    const alias = slash < 0 ? path : path.slice(0, slash);
    const target = this.aliasPath(alias);
    if (target === undefined) return undefined;
    const start = descend(this.root, target, 1);
    if (start === undefined || slash < 0) return start;
    return descend(start, path, slash + 1);
  }

  /** The absolute path an alias in /aliases stands for, if it is a well-formed one. */
  aliasPath(alias: string): string | undefined {
    const p = this.root.child('aliases')?.prop(alias);
    if (p === undefined) return undefined;
    const v = p.value;
    // An alias is one NUL-terminated absolute path.
    if (v.length < 2 || v[0] !== 0x2f || v[v.length - 1] !== 0 || v.indexOf(0) !== v.length - 1) return undefined;
    return p.string();
  }

  /** Nodes whose `compatible` list contains this string, in document order. */
  findCompatible(compatible: string): FdtNode[] {
    const needle = encodeUtf8(compatible);
    const out: FdtNode[] = [];
    for (const n of this.#nodes) {
      const p = n.prop('compatible');
      if (p !== undefined && stringListHas(p.value, needle)) out.push(n);
    }
    return out;
  }

  /** Every node, root first, in document (depth-first, pre-order) order. */
  walk(): Iterable<FdtNode> {
    return this.#nodes.values();
  }
}

function descend(from: FdtNode, path: string, start: number): FdtNode | undefined {
  let node: FdtNode | undefined = from;
  let i = start;
  while (node !== undefined && i < path.length) {
    let end = path.indexOf('/', i);
    if (end < 0) end = path.length;
    if (end > i) node = node.child(path.slice(i, end));
    i = end + 1;
  }
  return node;
}

function documentOrder(root: FdtNode): FdtNode[] {
  const out: FdtNode[] = [];
  const stack: FdtNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as FdtNode;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}

/**
 * Whether a NUL-separated string list holds exactly `needle`, compared as bytes. A list whose
 * last string is not terminated is not a string list, and holds nothing (as `compatible()` says).
 */
export function stringListHas(list: Uint8Array, needle: Uint8Array): boolean {
  if (list[list.length - 1] !== 0) return false;
  const n = needle.length;
  let start = 0;
  while (start < list.length) {
    const end = list.indexOf(0, start);
    if (end - start === n) {
      let same = true;
      for (let k = 0; k < n; k++) {
        if (list[start + k] !== needle[k]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    start = end + 1;
  }
  return false;
}
