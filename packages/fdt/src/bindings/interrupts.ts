import { FdtError } from '../error.js';
import type { Fdt } from '../tree/fdt.js';
import type { FdtNode } from '../tree/node.js';
import { nodeByPhandle } from './phandle.js';

/** The largest #interrupt-cells accepted; real controllers use 1 to 4. */
const MAX_INTERRUPT_CELLS = 16;

/**
 * The node's interrupt parent, found as the specification (and Linux) does: follow the node's
 * `interrupt-parent` phandle, or else its tree parent, and keep going until a node with
 * `#interrupt-cells` is reached. So a device without `interrupt-parent` inherits its
 * ancestors'. undefined when the chain ends, loops or names a missing phandle.
 */
export function interruptParent(fdt: Fdt, node: FdtNode): FdtNode | undefined {
  const seen = new Set<FdtNode>();
  let cur: FdtNode = node;
  for (;;) {
    seen.add(cur);
    const ip = cur.prop('interrupt-parent');
    let next: FdtNode | null | undefined;
    if (ip !== undefined) {
      if (ip.value.length !== 4) return undefined;
      next = nodeByPhandle(fdt, ip.u32(0));
    } else {
      next = cur.parent;
    }
    if (next === undefined || next === null || seen.has(next)) return undefined;
    if (next.prop('#interrupt-cells') !== undefined) return next;
    cur = next;
  }
}

/** The controller's #interrupt-cells, checked. */
export function interruptCells(controller: FdtNode): number {
  const p = controller.prop('#interrupt-cells');
  const n = p?.value.length === 4 ? p.u32(0) : MAX_INTERRUPT_CELLS + 1;
  if (n > MAX_INTERRUPT_CELLS) throw new FdtError('FDT_BAD_PROPERTY', `${controller.path}: missing or bad #interrupt-cells`);
  return n;
}

/**
 * The node's `interrupts`, one specifier per interrupt, each #interrupt-cells cells of its
 * interrupt parent. [] when it has no `interrupts` (see interruptsExtended for the other form).
 */
export function interrupts(fdt: Fdt, node: FdtNode): number[][] {
  const p = node.prop('interrupts');
  if (p === undefined) return [];
  const controller = interruptParent(fdt, node);
  if (controller === undefined) throw new FdtError('FDT_NOT_FOUND', `${node.path}: no interrupt parent`);
  const n = interruptCells(controller);
  const cells = p.cells();
  if (n === 0 && cells.length === 0) return [];
  if (n === 0 || cells.length % n !== 0) throw new FdtError('FDT_BAD_PROPERTY', `${node.path}: interrupts does not fit #interrupt-cells ${n}`);
  const out: number[][] = [];
  for (let i = 0; i < cells.length; i += n) out.push(cells.slice(i, i + n));
  return out;
}

/** The node's `interrupts-extended`: each entry's controller (by phandle) and specifier. */
export function interruptsExtended(fdt: Fdt, node: FdtNode): Array<{ controller: FdtNode; specifier: number[] }> {
  const p = node.prop('interrupts-extended');
  if (p === undefined) return [];
  const cells = p.cells();
  const out: Array<{ controller: FdtNode; specifier: number[] }> = [];
  let i = 0;
  while (i < cells.length) {
    const controller = nodeByPhandle(fdt, cells[i]);
    if (controller === undefined) throw new FdtError('FDT_NOT_FOUND', `${node.path}: interrupts-extended names no node`);
    const n = interruptCells(controller);
    if (i + 1 + n > cells.length) throw new FdtError('FDT_BAD_PROPERTY', `${node.path}: interrupts-extended is cut short`);
    out.push({ controller, specifier: cells.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}
