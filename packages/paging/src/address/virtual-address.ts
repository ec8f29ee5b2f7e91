/**
 * Virtual addresses are JS numbers. The lower half of a canonical address space is written
 * as is (0 … 2^(vaBits-1) - 1); the upper half, whose 64-bit form has all high bits set, is
 * written as a negative number — its two's-complement value — so that -0x1000 stands for
 * 0xffff_ffff_ffff_f000. Every canonical address of Sv39, Sv48 and x86-64 fits exactly.
 */

/** The address's index into a `vaBits`-wide space (0 … 2^vaBits - 1), or -1 if it is not canonical. */
export function vaIndex(va: number, vaBits: number): number {
  const half = 2 ** (vaBits - 1);
  if (!Number.isInteger(va) || va >= half || va < -half) return -1;
  return va < 0 ? va + 2 * half : va;
}

/** The address as a person reads it: the 64-bit hexadecimal form. */
export function formatVa(va: number): string {
  if (!Number.isFinite(va)) return String(va);
  if (!Number.isInteger(va)) return `${va}`;
  return `0x${BigInt.asUintN(64, BigInt(va)).toString(16)}`;
}

/** A physical address in hexadecimal. */
export function formatPa(pa: number): string {
  return `0x${pa.toString(16)}`;
}
