import { finishSum, foldSum, onesSum } from './internet.js';

/**
 * Transport checksums of Ethernet frames, for drivers that offload them or stand in for a
 * device that does not: finish a partial checksum (virtio-net NEEDS_CSUM, Linux's
 * CHECKSUM_PARTIAL) and verify the TCP or UDP checksum of a received frame.
 */

const ETH_HEADER = 14;
const VLAN_TAG = 4;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/**
 * Finishes a partial checksum in place: the ones'-complement sum of `frame[start..end)`
 * (whose checksum field already holds the pseudo-header sum) stored, complemented, at
 * `start + offset`. A result of 0 is stored as 0xffff (UDP's "no checksum" is 0). False when
 * the field does not fit in the frame.
 */
export function finishPartialChecksum(frame: Uint8Array, from: number, end: number, start: number, offset: number): boolean {
  const at = from + start + offset;
  if (start < 0 || offset < 0 || at + 2 > end) return false;
  const c = finishSum(onesSum(frame, from + start, end)) || 0xffff;
  frame[at] = c >> 8;
  frame[at + 1] = c & 0xff;
  return true;
}

/** What `verifyFrameChecksum` found. */
export const FrameChecksum = {
  /** The TCP or UDP checksum is right (or a UDP/IPv4 datagram carries none). */
  Good: 0,
  /** The TCP or UDP checksum is wrong, or the IP header lies about lengths. */
  Bad: 1,
  /** Not a whole TCP or UDP datagram over IPv4 or IPv6 (ARP, ICMP, a fragment...): nothing to check here. */
  NotApplicable: 2,
} as const;
export type FrameChecksum = (typeof FrameChecksum)[keyof typeof FrameChecksum];

/** Checks the TCP or UDP checksum of the Ethernet frame in `frame[from..end)`. */
export function verifyFrameChecksum(frame: Uint8Array, from: number, end: number): FrameChecksum {
  let ip = from + ETH_HEADER;
  if (ip > end) return FrameChecksum.NotApplicable;
  let type = (frame[ip - 2] << 8) | frame[ip - 1];
  if (type === ETHERTYPE_VLAN) {
    ip += VLAN_TAG;
    if (ip > end) return FrameChecksum.NotApplicable;
    type = (frame[ip - 2] << 8) | frame[ip - 1];
  }
  let proto: number;
  let l4: number;
  let l4End: number;
  let pseudo: number;
  if (type === ETHERTYPE_IPV4) {
    if (ip + 20 > end || frame[ip] >> 4 !== 4) return FrameChecksum.NotApplicable;
    const ihl = (frame[ip] & 0xf) * 4;
    const total = (frame[ip + 2] << 8) | frame[ip + 3];
    // More fragments, or not the first: the checksum covers the reassembled datagram.
    if (((frame[ip + 6] & 0x3f) | frame[ip + 7]) !== 0) return FrameChecksum.NotApplicable;
    proto = frame[ip + 9];
    if (proto !== PROTO_TCP && proto !== PROTO_UDP) return FrameChecksum.NotApplicable;
    if (ihl < 20 || total < ihl || ip + total > end) return FrameChecksum.Bad;
    l4 = ip + ihl;
    l4End = ip + total;
    pseudo = onesSum(frame, ip + 12, ip + 20) + proto + (l4End - l4);
    if (proto === PROTO_UDP && l4 + 8 <= l4End && frame[l4 + 6] === 0 && frame[l4 + 7] === 0) return FrameChecksum.Good;
  } else if (type === ETHERTYPE_IPV6) {
    if (ip + 40 > end || frame[ip] >> 4 !== 6) return FrameChecksum.NotApplicable;
    proto = frame[ip + 6];
    // Extension headers are left to the stack.
    if (proto !== PROTO_TCP && proto !== PROTO_UDP) return FrameChecksum.NotApplicable;
    const payload = (frame[ip + 4] << 8) | frame[ip + 5];
    l4 = ip + 40;
    l4End = l4 + payload;
    if (l4End > end) return FrameChecksum.Bad;
    pseudo = onesSum(frame, ip + 8, ip + 40) + proto + payload;
  } else return FrameChecksum.NotApplicable;
  if (l4End - l4 < (proto === PROTO_TCP ? 20 : 8)) return FrameChecksum.Bad;
  return foldSum(onesSum(frame, l4, l4End, pseudo)) === 0xffff ? FrameChecksum.Good : FrameChecksum.Bad;
}
