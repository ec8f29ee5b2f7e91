import type { NetBuf } from '@uk/netdev';
import type { Ipv4Address } from '../ip/address.js';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.js';

/** TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018). */
export const TCP_HEADER_LEN = 20;
/** The data offset field allows 15 words. */
export const TCP_MAX_HEADER_LEN = 60;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export const TcpOptionKind = { End: 0, Nop: 1, Mss: 2, WindowScale: 3, SackPermitted: 4, Sack: 5, Timestamps: 8 } as const;

/** Option sizes as sent (aligned with NOPs to 32-bit words). */
export const TCP_OPT_TIMESTAMPS_LEN = 12;
export const TCP_MAX_SACK_BLOCKS = 4;

export type TcpCheck = 'ok' | 'truncated' | 'header-length' | 'options' | 'checksum';

export function tcpSrcPort(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function tcpDstPort(b: Uint8Array, off: number): number {
  return (b[off + 2] << 8) | b[off + 3];
}

export function tcpSeq(b: Uint8Array, off: number): number {
  return ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
}

export function tcpAck(b: Uint8Array, off: number): number {
  return ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0;
}

/** Header length in bytes (data offset × 4). */
export function tcpHeaderLength(b: Uint8Array, off: number): number {
  return (b[off + 12] >> 4) * 4;
}

export function tcpFlags(b: Uint8Array, off: number): number {
  return b[off + 13];
}

export function tcpWindow(b: Uint8Array, off: number): number {
  return (b[off + 14] << 8) | b[off + 15];
}

export function tcpChecksumField(b: Uint8Array, off: number): number {
  return (b[off + 16] << 8) | b[off + 17];
}

export function tcpUrgentPointer(b: Uint8Array, off: number): number {
  return (b[off + 18] << 8) | b[off + 19];
}

/** The checksum of a whole segment (header + data, possibly a chain) with its pseudo-header; 0 when valid. */
export function tcpChecksumOf(buf: NetBuf, src: Ipv4Address, dst: Ipv4Address, length: number): number {
  let sum = pseudoHeaderSum(src, dst, 6, length);
  let odd = false;
  for (let b: NetBuf | null = buf; b !== null; b = b.next) {
    if (b.length === 0) continue;
    if (!odd) sum = sumBytes(b.store, b.offset, b.offset + b.length, sum);
    else {
      // A piece that starts on an odd byte continues the previous word: its first byte is the low half.
      sum += b.store[b.offset];
      sum = sumBytes(b.store, b.offset + 1, b.offset + b.length, sum);
    }
    if ((b.length & 1) === 1) odd = !odd;
  }
  return finishChecksum(sum);
}

/**
 * Checks a segment of `length` bytes at `off` in one contiguous store: a header that fits,
 * a data offset of 5..15 words within the segment, and the checksum unless the device
 * verified it.
 */
export function checkTcp(b: Uint8Array, off: number, length: number, src: Ipv4Address, dst: Ipv4Address, checksumVerified = false): TcpCheck {
  if (length < TCP_HEADER_LEN) return 'truncated';
  const hl = tcpHeaderLength(b, off);
  if (hl < TCP_HEADER_LEN || hl > length) return 'header-length';
  if (!checksumVerified && finishChecksum(sumBytes(b, off, off + length, pseudoHeaderSum(src, dst, 6, length))) !== 0) return 'checksum';
  return 'ok';
}

/** The options of one segment, parsed into a reusable object (no allocation per segment). */
export class TcpOptions {
  /** -1 when absent. */
  mss = -1;
  /** Shift count, -1 when absent. */
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks as [left, right) pairs; `sackCount` of them are valid. */
  readonly sack = new Float64Array(2 * TCP_MAX_SACK_BLOCKS);
  sackCount = 0;

  reset(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }
}

/**
 * Parses the options in bytes [off + 20, off + headerLength). Unknown kinds are skipped by
 * their length; a malformed list (a length under 2 or past the end, a known option of the
 * wrong size) returns false and the segment should be dropped.
 */
export function parseTcpOptions(b: Uint8Array, off: number, headerLength: number, into: TcpOptions): boolean {
  into.reset();
  let i = off + TCP_HEADER_LEN;
  const end = off + headerLength;
  while (i < end) {
    const kind = b[i];
    if (kind === TcpOptionKind.End) break;
    if (kind === TcpOptionKind.Nop) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return false;
    switch (kind) {
      case TcpOptionKind.Mss:
        if (len !== 4) return false;
        into.mss = (b[i + 2] << 8) | b[i + 3];
        break;
      case TcpOptionKind.WindowScale:
        if (len !== 3) return false;
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        into.windowScale = Math.min(b[i + 2], 14);
        break;
      case TcpOptionKind.SackPermitted:
        if (len !== 2) return false;
        into.sackPermitted = true;
        break;
      case TcpOptionKind.Sack: {
        const n = (len - 2) >> 3;
        if (len !== 2 + 8 * n || n === 0) return false;
        const m = Math.min(n, TCP_MAX_SACK_BLOCKS);
        for (let k = 0; k < m; k++) {
          const p = i + 2 + 8 * k;
          into.sack[2 * k] = readU32(b, p);
          into.sack[2 * k + 1] = readU32(b, p + 4);
        }
        into.sackCount = m;
        break;
      }
      case TcpOptionKind.Timestamps:
        if (len !== 10) return false;
        into.hasTimestamps = true;
        into.tsVal = readU32(b, i + 2);
        into.tsEcr = readU32(b, i + 6);
        break;
      default:
        break;
    }
    i += len;
  }
  return true;
}

/** Writes the fixed 20 bytes of a header; the checksum field is zeroed. */
export function emitTcpHeader(
  b: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  headerLength: number,
  flags: number,
  window: number,
): void {
  b[off] = srcPort >> 8;
  b[off + 1] = srcPort & 255;
  b[off + 2] = dstPort >> 8;
  b[off + 3] = dstPort & 255;
  writeU32(b, off + 4, seq);
  writeU32(b, off + 8, ack);
  b[off + 12] = (headerLength >> 2) << 4;
  b[off + 13] = flags;
  b[off + 14] = window >> 8;
  b[off + 15] = window & 255;
  b[off + 16] = 0;
  b[off + 17] = 0;
  b[off + 18] = 0;
  b[off + 19] = 0;
}

/** MSS option (4 bytes) at `p`; returns the next position. */
export function emitMssOption(b: Uint8Array, p: number, mss: number): number {
  b[p] = TcpOptionKind.Mss;
  b[p + 1] = 4;
  b[p + 2] = mss >> 8;
  b[p + 3] = mss & 255;
  return p + 4;
}

/** NOP + window scale (4 bytes). */
export function emitWindowScaleOption(b: Uint8Array, p: number, shift: number): number {
  b[p] = TcpOptionKind.Nop;
  b[p + 1] = TcpOptionKind.WindowScale;
  b[p + 2] = 3;
  b[p + 3] = shift;
  return p + 4;
}

/** NOP NOP SACK-permitted (4 bytes). */
export function emitSackPermittedOption(b: Uint8Array, p: number): number {
  b[p] = TcpOptionKind.Nop;
  b[p + 1] = TcpOptionKind.Nop;
  b[p + 2] = TcpOptionKind.SackPermitted;
  b[p + 3] = 2;
  return p + 4;
}

/** NOP NOP timestamps (12 bytes). */
export function emitTimestampsOption(b: Uint8Array, p: number, tsVal: number, tsEcr: number): number {
  b[p] = TcpOptionKind.Nop;
  b[p + 1] = TcpOptionKind.Nop;
  b[p + 2] = TcpOptionKind.Timestamps;
  b[p + 3] = 10;
  writeU32(b, p + 4, tsVal);
  writeU32(b, p + 8, tsEcr);
  return p + 12;
}

/** NOP NOP SACK with `count` blocks taken from `blocks` ([left, right) pairs): 4 + 8·count bytes. */
export function emitSackOption(b: Uint8Array, p: number, blocks: ArrayLike<number>, count: number): number {
  b[p] = TcpOptionKind.Nop;
  b[p + 1] = TcpOptionKind.Nop;
  b[p + 2] = TcpOptionKind.Sack;
  b[p + 3] = 2 + 8 * count;
  let q = p + 4;
  for (let k = 0; k < count; k++) {
    writeU32(b, q, blocks[2 * k]);
    writeU32(b, q + 4, blocks[2 * k + 1]);
    q += 8;
  }
  return q;
}

/**
 * Fills in the checksum of the segment [off, off + length) of `b`. With `offload` the field
 * gets the folded pseudo-header sum, which a device that completes checksums expects.
 */
export function finishTcpChecksum(b: Uint8Array, off: number, length: number, src: Ipv4Address, dst: Ipv4Address, offload: boolean): void {
  const pseudo = pseudoHeaderSum(src, dst, 6, length);
  let c: number;
  if (offload) {
    let s = pseudo;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    c = s;
  } else {
    b[off + 16] = 0;
    b[off + 17] = 0;
    c = finishChecksum(sumBytes(b, off, off + length, pseudo));
  }
  b[off + 16] = c >> 8;
  b[off + 17] = c & 255;
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 255;
  b[p + 2] = (v >>> 8) & 255;
  b[p + 3] = v & 255;
}
