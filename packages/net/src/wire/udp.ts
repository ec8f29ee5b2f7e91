import type { Ipv4Address } from '../ip/address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.js';

/** UDP (RFC 768). */
export const UDP_HEADER_LEN = 8;

export type UdpCheck = 'ok' | 'truncated' | 'length' | 'checksum';

/**
 * Checks a datagram of `length` bytes (the IP payload) at `off`: a header, a length field
 * that covers the header and fits, and the checksum unless it is 0 (none sent) or the device
 * verified it.
 */
export function checkUdp(b: Uint8Array, off: number, length: number, src: Ipv4Address, dst: Ipv4Address, checksumVerified = false): UdpCheck {
  if (length < UDP_HEADER_LEN) return 'truncated';
  const len = udpLength(b, off);
  if (len < UDP_HEADER_LEN || len > length) return 'length';
  if (!checksumVerified && udpChecksum(b, off) !== 0) {
    const sum = sumBytes(b, off, off + len, pseudoHeaderSum(src, dst, 17, len));
    if (finishChecksum(sum) !== 0) return 'checksum';
  }
  return 'ok';
}

export function udpSrcPort(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function udpDstPort(b: Uint8Array, off: number): number {
  return (b[off + 2] << 8) | b[off + 3];
}

/** Header plus data, in bytes. */
export function udpLength(b: Uint8Array, off: number): number {
  return (b[off + 4] << 8) | b[off + 5];
}

export function udpChecksum(b: Uint8Array, off: number): number {
  return (b[off + 6] << 8) | b[off + 7];
}

/**
 * Writes the header in front of `dataLength` bytes that already follow it; computes the
 * checksum unless `checksum` is false (device offload, or none).
 */
export function emitUdp(b: Uint8Array, off: number, srcPort: number, dstPort: number, dataLength: number, src: Ipv4Address, dst: Ipv4Address, checksum = true): void {
  const len = UDP_HEADER_LEN + dataLength;
  b[off] = srcPort >> 8;
  b[off + 1] = srcPort & 255;
  b[off + 2] = dstPort >> 8;
  b[off + 3] = dstPort & 255;
  b[off + 4] = len >> 8;
  b[off + 5] = len & 255;
  b[off + 6] = 0;
  b[off + 7] = 0;
  if (!checksum) return;
  let c = finishChecksum(sumBytes(b, off, off + len, pseudoHeaderSum(src, dst, 17, len)));
  // A computed zero is sent as all ones: zero means "no checksum".
  if (c === 0) c = 0xffff;
  b[off + 6] = c >> 8;
  b[off + 7] = c & 255;
}
