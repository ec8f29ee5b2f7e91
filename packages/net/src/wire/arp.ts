import type { Ipv4Address } from '../ip/address.js';
import { readIpv4, writeIpv4 } from '../ip/address.js';
import type { MacAddress } from './ethernet.js';

/** ARP for IPv4 over Ethernet (RFC 826): the only kind this stack speaks. */
export const ARP_PACKET_LEN = 28;

export const ArpOp = { Request: 1, Reply: 2 } as const;

/** Hardware Ethernet, protocol IPv4, lengths 6 and 4; false for anything else or too short. */
export function checkArp(b: Uint8Array, off: number, length: number): boolean {
  if (length < ARP_PACKET_LEN) return false;
  return b[off] === 0 && b[off + 1] === 1 && b[off + 2] === 0x08 && b[off + 3] === 0x00 && b[off + 4] === 6 && b[off + 5] === 4;
}

export function arpOp(b: Uint8Array, off: number): number {
  return (b[off + 6] << 8) | b[off + 7];
}

/** Sender hardware address (a view). */
export function arpSha(b: Uint8Array, off: number): Uint8Array {
  return b.subarray(off + 8, off + 14);
}

export function arpSpa(b: Uint8Array, off: number): Ipv4Address {
  return readIpv4(b, off + 14);
}

export function arpTha(b: Uint8Array, off: number): Uint8Array {
  return b.subarray(off + 18, off + 24);
}

export function arpTpa(b: Uint8Array, off: number): Ipv4Address {
  return readIpv4(b, off + 24);
}

export interface ArpRepr {
  readonly op: number;
  readonly sha: MacAddress;
  readonly spa: Ipv4Address;
  readonly tha: MacAddress;
  readonly tpa: Ipv4Address;
}

export function emitArp(b: Uint8Array, off: number, r: ArpRepr): void {
  b[off] = 0;
  b[off + 1] = 1;
  b[off + 2] = 0x08;
  b[off + 3] = 0;
  b[off + 4] = 6;
  b[off + 5] = 4;
  b[off + 6] = r.op >> 8;
  b[off + 7] = r.op & 255;
  b.set(r.sha.subarray(0, 6), off + 8);
  writeIpv4(b, off + 14, r.spa);
  b.set(r.tha.subarray(0, 6), off + 18);
  writeIpv4(b, off + 24, r.tpa);
}
