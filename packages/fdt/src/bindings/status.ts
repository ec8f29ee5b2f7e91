import type { FdtNode } from '../tree/node.js';

/** The node's `compatible` list, most specific first; [] when it has none or it is malformed. */
export function compatible(node: FdtNode): string[] {
  const p = node.prop('compatible');
  if (p === undefined) return [];
  const v = p.value;
  if (v.length === 0 || v[v.length - 1] !== 0) return [];
  return p.strings();
}

/** Whether the node is usable: `status` absent, "okay" or "ok" (the older spelling). */
export function isEnabled(node: FdtNode): boolean {
  const p = node.prop('status');
  if (p === undefined) return true;
  const v = p.value;
  if (v.length === 0 || v[v.length - 1] !== 0) return false;
  const s = p.string();
  return s === 'okay' || s === 'ok';
}
