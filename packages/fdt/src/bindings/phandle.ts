import type { Fdt } from '../tree/fdt.js';
import type { FdtNode } from '../tree/node.js';

/**
 * The node's phandle (`phandle`, or the older `linux,phandle`), if it has a valid one. Free
 * functions rather than members of the tree: only a kernel that follows references (interrupt
 * parents) carries them.
 */
export function phandleOf(node: FdtNode): number | undefined {
  const p = node.prop('phandle') ?? node.prop('linux,phandle');
  if (p === undefined || p.value.length !== 4) return undefined;
  const v = p.u32(0);
  return v === 0 || v === 0xffffffff ? undefined : v;
}

// Built on first use per tree; a tree never changes after parsing.
const tables = new WeakMap<Fdt, Map<number, FdtNode>>();

/** The node a phandle names; when two claim the same one, the first in document order. */
export function nodeByPhandle(fdt: Fdt, phandle: number): FdtNode | undefined {
  let table = tables.get(fdt);
  if (table === undefined) {
    table = new Map();
    for (const n of fdt.walk()) {
      const ph = phandleOf(n);
      if (ph !== undefined && !table.has(ph)) table.set(ph, n);
    }
    tables.set(fdt, table);
  }
  return table.get(phandle);
}
