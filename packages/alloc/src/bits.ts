/**
 * Integer arithmetic on physical addresses. Addresses go up to 2^53, past what the 32-bit
 * bitwise operators see, so sizes and addresses are handled as doubles (exact for integers
 * below 2^53) and only page or block *indices* go through `|`, `&`, `^` and `Math.clz32`.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** The first address no allocator can hand out: above it doubles stop being exact. */
export const ADDRESS_LIMIT = 2 ** 53;

const TWO_32 = 4294967296;

/** ⌊log2 n⌋ for an integer 1 ≤ n < 2^53. */
export function floorLog2(n: number): number {
  return n < TWO_32 ? 31 - Math.clz32(n) : 63 - Math.clz32(Math.floor(n / TWO_32));
}

/** ⌈log2 n⌉ for an integer 1 ≤ n < 2^53. */
export function ceilLog2(n: number): number {
  const f = floorLog2(n);
  return 2 ** f === n ? f : f + 1;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** floorLog2(n) === n;
}

/** Index of the lowest set bit of a 32-bit value; 32 for zero. */
export function lowestBit(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Index of the highest set bit of a 32-bit value; -1 for zero. */
export function highestBit(x: number): number {
  return 31 - Math.clz32(x);
}

/** `n` rounded up to a multiple of the power of two `a`. */
export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** `n` rounded down to a multiple of the power of two `a`. */
export function alignDown(n: number, a: number): number {
  return Math.floor(n / a) * a;
}

/** An address as people read it in a fault report: 0x80001000. */
export function hex(addr: number): string {
  return Number.isFinite(addr) && addr >= 0 ? `0x${addr.toString(16)}` : String(addr);
}

/** A byte count as people read it: 4 KiB, 1.5 MiB, 1 GiB, 100 B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
