import type { Ipv4Address } from '../ip/address.js';
import { readIpv4, writeIpv4 } from '../ip/address.js';
import { internetChecksum } from './checksum.js';

/** IPv4 headers (RFC 791). Options are accepted on input and skipped; none are emitted. */
export const IPV4_HEADER_LEN = 20;
export const IPV4_MAX_LEN = 65_535;

export const Ipv4Flag = { DontFragment: 0x4000, MoreFragments: 0x2000 } as const;

export type Ipv4Check = 'ok' | 'truncated' | 'version' | 'header-length' | 'total-length' | 'checksum';

/**
 * Checks a packet of `length` bytes at `off`: version 4, a header length of at least 20 that
 * fits, a total length that covers the header and fits (bytes past it are link padding), and
 * the header checksum.
 */
export function checkIpv4(b: Uint8Array, off: number, length: number): Ipv4Check {
  if (length < IPV4_HEADER_LEN) return 'truncated';
  if (b[off] >> 4 !== 4) return 'version';
  const hl = (b[off] & 15) * 4;
  if (hl < IPV4_HEADER_LEN || hl > length) return 'header-length';
  const total = ipv4TotalLength(b, off);
  if (total < hl || total > length) return 'total-length';
  if (internetChecksum(b, off, off + hl) !== 0) return 'checksum';
  return 'ok';
}

export function ipv4HeaderLength(b: Uint8Array, off: number): number {
  return (b[off] & 15) * 4;
}

export function ipv4Tos(b: Uint8Array, off: number): number {
  return b[off + 1];
}

export function ipv4TotalLength(b: Uint8Array, off: number): number {
  return (b[off + 2] << 8) | b[off + 3];
}

export function ipv4Id(b: Uint8Array, off: number): number {
  return (b[off + 4] << 8) | b[off + 5];
}

/** Flags and fragment offset as one 16-bit field. */
export function ipv4FlagsFragment(b: Uint8Array, off: number): number {
  return (b[off + 6] << 8) | b[off + 7];
}

export function ipv4MoreFragments(b: Uint8Array, off: number): boolean {
  return (b[off + 6] & 0x20) !== 0;
}

export function ipv4DontFragment(b: Uint8Array, off: number): boolean {
  return (b[off + 6] & 0x40) !== 0;
}

/** The fragment offset in bytes. */
export function ipv4FragmentOffset(b: Uint8Array, off: number): number {
  return (((b[off + 6] & 0x1f) << 8) | b[off + 7]) * 8;
}

export function ipv4Ttl(b: Uint8Array, off: number): number {
  return b[off + 8];
}

export function ipv4Protocol(b: Uint8Array, off: number): number {
  return b[off + 9];
}

export function ipv4Src(b: Uint8Array, off: number): Ipv4Address {
  return readIpv4(b, off + 12);
}

export function ipv4Dst(b: Uint8Array, off: number): Ipv4Address {
  return readIpv4(b, off + 16);
}

export interface Ipv4Repr {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  /** Bytes after the header. */
  readonly payloadLength: number;
  readonly ttl?: number;
  readonly tos?: number;
  readonly id?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Bytes; a multiple of 8. */
  readonly fragmentOffset?: number;
}

/** Writes a 20-byte header (no options) with its checksum. */
export function emitIpv4(b: Uint8Array, off: number, r: Ipv4Repr): void {
  const total = IPV4_HEADER_LEN + r.payloadLength;
  b[off] = 0x45;
  b[off + 1] = r.tos ?? 0;
  b[off + 2] = total >> 8;
  b[off + 3] = total & 255;
  const id = r.id ?? 0;
  b[off + 4] = (id >> 8) & 255;
  b[off + 5] = id & 255;
  const frag = ((r.fragmentOffset ?? 0) / 8) | (r.dontFragment ? Ipv4Flag.DontFragment : 0) | (r.moreFragments ? Ipv4Flag.MoreFragments : 0);
  b[off + 6] = frag >> 8;
  b[off + 7] = frag & 255;
  b[off + 8] = r.ttl ?? 64;
  b[off + 9] = r.protocol;
  b[off + 10] = 0;
  b[off + 11] = 0;
  writeIpv4(b, off + 12, r.src);
  writeIpv4(b, off + 16, r.dst);
  const c = internetChecksum(b, off, off + IPV4_HEADER_LEN);
  b[off + 10] = c >> 8;
  b[off + 11] = c & 255;
}
