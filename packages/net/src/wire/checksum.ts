/**
 * The Internet checksum (RFC 1071) for the protocol modules. The summing itself lives once, in
 * @uk/netdev (drivers finish offloaded checksums with it); this module adds the IPv4
 * pseudo-header and keeps the names the wire layer uses.
 */
import { finishSum, onesSum } from '@uk/netdev';

/** Adds bytes [start, end) of `b` to `sum` as 16-bit words; an odd last byte counts as its high half. */
export const sumBytes: (b: Uint8Array, start: number, end: number, sum?: number) => number = onesSum;

/** Folds a running sum to 16 bits and complements it: the value for the checksum field. */
export const finishChecksum: (sum: number) => number = finishSum;

/** The checksum of bytes [start, end). */
export function internetChecksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  return finishSum(onesSum(b, start, end, initial));
}

/** The sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 9293 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
