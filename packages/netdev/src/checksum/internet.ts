/**
 * The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words.
 * Sums are kept as plain numbers and folded at the end; a double holds the sum of any
 * packet exactly.
 */

/** The unfolded sum of bytes [from, to), added to `initial`; an odd last byte counts as its high half. */
export function onesSum(b: Uint8Array, from: number, to: number, initial = 0): number {
  let sum = initial;
  let i = from;
  const even = to - ((to - from) & 1);
  for (; i < even; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < to) sum += b[i] << 8;
  return sum;
}

/** Folds a sum to 16 bits (end-around carry), not complemented. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x1_0000);
  return sum;
}

/** The checksum to store: the complement of the folded sum. */
export function finishSum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}
