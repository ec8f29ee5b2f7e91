import { DESC_SIZE, DescField } from './layout.js';

/**
 * Reading and writing one descriptor in a little-endian DataView. Addresses are numbers:
 * exact up to 2^53, far beyond any RAM here; a caller that gets an address with the high
 * word above 2^21 has a nonsense address in hand (`descAddr` returns it as `Infinity`).
 */
const TWO32 = 0x1_0000_0000;

export function descAddr(view: DataView, at: number): number {
  const lo = view.getUint32(at + DescField.addr, true);
  const hi = view.getUint32(at + DescField.addr + 4, true);
  return hi < 0x20_0000 ? hi * TWO32 + lo : Number.POSITIVE_INFINITY;
}

export function descLen(view: DataView, at: number): number {
  return view.getUint32(at + DescField.len, true);
}

export function descFlags(view: DataView, at: number): number {
  return view.getUint16(at + DescField.flags, true);
}

export function descNext(view: DataView, at: number): number {
  return view.getUint16(at + DescField.next, true);
}

export function writeDesc(view: DataView, at: number, addr: number, len: number, flags: number, next: number): void {
  view.setUint32(at + DescField.addr, addr >>> 0, true);
  view.setUint32(at + DescField.addr + 4, Math.floor(addr / TWO32) >>> 0, true);
  view.setUint32(at + DescField.len, len >>> 0, true);
  view.setUint16(at + DescField.flags, flags, true);
  view.setUint16(at + DescField.next, next, true);
}

/** Byte offset of descriptor `i` within a table that starts at `table`. */
export function descOffset(table: number, i: number): number {
  return table + DESC_SIZE * i;
}
