/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
 * 16-bit big-endian words. Sums are kept unfolded in a JS number (no overflow below 2^53),
 * so pieces — pseudo-header, header, payload chunks — can be summed separately and combined.
 */

/** Adds bytes [start, end) of `b` to `sum` as 16-bit words; an odd start continues the previous piece. */
export function sumBytes(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i === last) sum += b[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value for the checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of bytes [start, end). */
export function internetChecksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  return finishChecksum(sumBytes(b, start, end, initial));
}

/** The sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 9293 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
