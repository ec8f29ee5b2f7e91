import { FdtError } from '../error.js';
import { be32 } from '../format/endian.js';
import type { FdtNode } from '../tree/node.js';

/** The largest #address-cells / #size-cells accepted: PCI uses 3; nothing real uses more than 4. */
const MAX_CELLS = 4;

function cellsProperty(node: FdtNode, name: '#address-cells' | '#size-cells', fallback: number): number {
  const parent = node.parent;
  const p = parent?.prop(name);
  if (parent === null || p === undefined) return fallback;
  const n = p.value.length === 4 ? p.u32(0) : MAX_CELLS + 1;
  if (n > MAX_CELLS) throw new FdtError('FDT_BAD_PROPERTY', `${parent.path}: bad ${name}`);
  return n;
}

/** Cells in an address of this node's `reg`: the parent's #address-cells, 2 when absent. */
export function addressCells(node: FdtNode): number {
  return cellsProperty(node, '#address-cells', 2);
}

/** Cells in a size of this node's `reg`: the parent's #size-cells, 1 when absent. */
export function sizeCells(node: FdtNode): number {
  return cellsProperty(node, '#size-cells', 1);
}

function readBig(v: Uint8Array, off: number, cells: number): bigint {
  let x = 0n;
  for (let i = 0; i < cells; i++) x = (x << 32n) | BigInt(be32(v, off + i * 4));
  return x;
}

function readSafe(node: FdtNode, what: string, v: Uint8Array, off: number, cells: number): number {
  let x = 0;
  for (let i = 0; i < cells; i++) {
    // Up to 2^21 - 1 before the shift keeps the result at or below 2^53 - 1.
    if (x > 0x1fffff) {
      throw new FdtError('FDT_BAD_PROPERTY', `${node.path}: reg ${what} needs regBig()`);
    }
    x = x * 0x1_0000_0000 + be32(v, off + i * 4);
  }
  return x;
}

/** The raw `reg` value checked against the cell counts; undefined when there is no `reg`. */
function regLayout(node: FdtNode): { v: Uint8Array; ac: number; sc: number; entry: number } | undefined {
  const p = node.prop('reg');
  if (p === undefined) return undefined;
  const ac = addressCells(node);
  const sc = sizeCells(node);
  const entry = (ac + sc) * 4;
  const v = p.value;
  if (entry === 0 && v.length === 0) return undefined;
  if (entry === 0 || v.length % entry !== 0) throw new FdtError('FDT_BAD_PROPERTY', `${node.path}: reg does not fit ${ac} address + ${sc} size cells`);
  return { v, ac, sc, entry };
}

/** The `reg` entries with 64-bit (or wider) addresses and sizes. [] when there is no `reg`. */
export function regBig(node: FdtNode): Array<{ address: bigint; size: bigint }> {
  const l = regLayout(node);
  if (l === undefined) return [];
  const out: Array<{ address: bigint; size: bigint }> = [];
  for (let off = 0; off < l.v.length; off += l.entry) {
    out.push({ address: readBig(l.v, off, l.ac), size: readBig(l.v, off + l.ac * 4, l.sc) });
  }
  return out;
}

/** The `reg` entries as numbers; throws FDT_BAD_PROPERTY for a value past 2^53 - 1. */
export function reg(node: FdtNode): Array<{ address: number; size: number }> {
  const l = regLayout(node);
  if (l === undefined) return [];
  const out: Array<{ address: number; size: number }> = [];
  for (let off = 0; off < l.v.length; off += l.entry) {
    out.push({ address: readSafe(node, 'address', l.v, off, l.ac), size: readSafe(node, 'size', l.v, off + l.ac * 4, l.sc) });
  }
  return out;
}
