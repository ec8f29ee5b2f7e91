import { internetChecksum } from './checksum.js';

/** ICMP for IPv4 (RFC 792): echo both ways, and the error messages a host sends and heeds. */
export const ICMP_HEADER_LEN = 8;

export const IcmpType = { EchoReply: 0, DestinationUnreachable: 3, EchoRequest: 8, TimeExceeded: 11, ParameterProblem: 12 } as const;

export const UnreachableCode = { Net: 0, Host: 1, Protocol: 2, Port: 3, FragmentationNeeded: 4 } as const;

/** At least a header, and the checksum over the whole message verifies. */
export function checkIcmp(b: Uint8Array, off: number, length: number): boolean {
  return length >= ICMP_HEADER_LEN && internetChecksum(b, off, off + length) === 0;
}

export function icmpType(b: Uint8Array, off: number): number {
  return b[off];
}

export function icmpCode(b: Uint8Array, off: number): number {
  return b[off + 1];
}

/** Echo identifier. */
export function icmpEchoId(b: Uint8Array, off: number): number {
  return (b[off + 4] << 8) | b[off + 5];
}

export function icmpEchoSeq(b: Uint8Array, off: number): number {
  return (b[off + 6] << 8) | b[off + 7];
}

/** The next-hop MTU of a "fragmentation needed" message (RFC 1191), 0 when the sender left it out. */
export function icmpNextHopMtu(b: Uint8Array, off: number): number {
  return (b[off + 6] << 8) | b[off + 7];
}

/**
 * Writes the header of an echo request or reply whose `length - 8` bytes of data already sit
 * after it, and the checksum over the whole message.
 */
export function emitIcmpEcho(b: Uint8Array, off: number, length: number, type: number, id: number, seq: number): void {
  b[off] = type;
  b[off + 1] = 0;
  b[off + 2] = 0;
  b[off + 3] = 0;
  b[off + 4] = (id >> 8) & 255;
  b[off + 5] = id & 255;
  b[off + 6] = (seq >> 8) & 255;
  b[off + 7] = seq & 255;
  const c = internetChecksum(b, off, off + length);
  b[off + 2] = c >> 8;
  b[off + 3] = c & 255;
}

/**
 * Writes the header of an error message (destination unreachable, time exceeded...) whose
 * quoted datagram already sits after it; `extra` is the second word (the next-hop MTU for
 * "fragmentation needed", else 0).
 */
export function emitIcmpError(b: Uint8Array, off: number, length: number, type: number, code: number, extra = 0): void {
  b[off] = type;
  b[off + 1] = code;
  b[off + 2] = 0;
  b[off + 3] = 0;
  b[off + 4] = (extra >>> 24) & 255;
  b[off + 5] = (extra >>> 16) & 255;
  b[off + 6] = (extra >>> 8) & 255;
  b[off + 7] = extra & 255;
  const c = internetChecksum(b, off, off + length);
  b[off + 2] = c >> 8;
  b[off + 3] = c & 255;
}
