import type { Ipv4Address } from '../ip/address.js';
import { readIpv4, writeIpv4 } from '../ip/address.js';

/** DNS messages (RFC 1035): queries out, A and CNAME records in. */
export const DNS_PORT = 53;
export const DNS_HEADER_LEN = 12;

export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, AAAA: 28 } as const;
export const DNS_CLASS_IN = 1;

export const DnsRcode = { NoError: 0, FormErr: 1, ServFail: 2, NxDomain: 3, NotImp: 4, Refused: 5 } as const;

/** Pointers followed while reading one name: bounds hostile loops. */
const MAX_POINTERS = 16;
const MAX_NAME = 255;

export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  /** Seconds. */
  readonly ttl: number;
  /** For A records. */
  readonly address?: Ipv4Address;
  /** For CNAME records. */
  readonly target?: string;
}

export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode?: number;
  readonly authoritative?: boolean;
  readonly truncated: boolean;
  readonly recursionDesired?: boolean;
  readonly recursionAvailable?: boolean;
  readonly rcode: number;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
}

/** Is `name` a host name we can put in a query (labels of 1–63 bytes, 255 in all, ASCII)? */
export function isValidDnsName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  if (/[^\x21-\x7e]/.test(n)) return false;
  return n.split('.').every((l) => l.length >= 1 && l.length <= 63);
}

function nameLength(name: string): number {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.length + 2;
}

function writeName(b: Uint8Array, i: number, name: string): number {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  for (const label of n.split('.')) {
    b[i++] = label.length;
    for (let k = 0; k < label.length; k++) b[i++] = label.charCodeAt(k);
  }
  b[i++] = 0;
  return i;
}

/** Bytes `emitDns` writes for `m` (names uncompressed). */
export function dnsLength(m: DnsMessage): number {
  let n = DNS_HEADER_LEN;
  for (const q of m.questions) n += nameLength(q.name) + 4;
  for (const a of m.answers) n += nameLength(a.name) + 10 + (a.type === DnsType.A ? 4 : a.target !== undefined ? nameLength(a.target) : 0);
  return n;
}

/** Writes `m` at `off`; names must be valid (isValidDnsName). Returns the length. */
export function emitDns(b: Uint8Array, off: number, m: DnsMessage): number {
  const flags =
    (m.response ? 0x8000 : 0) |
    (((m.opcode ?? 0) & 15) << 11) |
    (m.authoritative ? 0x0400 : 0) |
    (m.truncated ? 0x0200 : 0) |
    (m.recursionDesired ?? true ? 0x0100 : 0) |
    (m.recursionAvailable ? 0x0080 : 0) |
    (m.rcode & 15);
  const w16 = (at: number, v: number): void => {
    b[at] = (v >> 8) & 255;
    b[at + 1] = v & 255;
  };
  w16(off, m.id);
  w16(off + 2, flags);
  w16(off + 4, m.questions.length);
  w16(off + 6, m.answers.length);
  w16(off + 8, 0);
  w16(off + 10, 0);
  let i = off + DNS_HEADER_LEN;
  for (const q of m.questions) {
    i = writeName(b, i, q.name);
    w16(i, q.type);
    w16(i + 2, q.class);
    i += 4;
  }
  for (const a of m.answers) {
    i = writeName(b, i, a.name);
    w16(i, a.type);
    w16(i + 2, a.class);
    writeIpv4(b, i + 4, a.ttl >>> 0);
    i += 10;
    if (a.type === DnsType.A) {
      w16(i - 2, 4);
      writeIpv4(b, i, a.address ?? 0);
      i += 4;
    } else if (a.target !== undefined) {
      const start = i;
      i = writeName(b, i, a.target);
      w16(start - 2, i - start);
    } else {
      w16(i - 2, 0);
    }
  }
  return i - off;
}

/** A name at `at` within the message [off, end): its text (lower case) and where the field ends; undefined when malformed. */
function readName(b: Uint8Array, off: number, end: number, at: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let i = at;
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (i >= end) return undefined;
    const len = b[i];
    if ((len & 0xc0) === 0xc0) {
      if (i + 1 >= end || ++jumps > MAX_POINTERS) return undefined;
      if (next < 0) next = i + 2;
      const target = off + (((len & 0x3f) << 8) | b[i + 1]);
      if (target >= end) return undefined;
      i = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined;
    if (len === 0) {
      if (next < 0) next = i + 1;
      break;
    }
    if (i + 1 + len > end) return undefined;
    total += len + 1;
    if (total > MAX_NAME) return undefined;
    labels.push(String.fromCharCode(...b.subarray(i + 1, i + 1 + len)).toLowerCase());
    i += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/**
 * Reads a message of `length` bytes at `off`; undefined when malformed (a count that runs
 * past the end, a pointer loop, a record that does not fit). Authority and additional
 * sections are not read.
 */
export function parseDns(b: Uint8Array, off: number, length: number): DnsMessage | undefined {
  if (length < DNS_HEADER_LEN) return undefined;
  const end = off + length;
  const r16 = (at: number): number => (b[at] << 8) | b[at + 1];
  const flags = r16(off + 2);
  const qd = r16(off + 4);
  const an = r16(off + 6);
  const questions: DnsQuestion[] = [];
  const answers: DnsRecord[] = [];
  let i = off + DNS_HEADER_LEN;
  for (let k = 0; k < qd; k++) {
    const n = readName(b, off, end, i);
    if (n === undefined || n.next + 4 > end) return undefined;
    questions.push({ name: n.name, type: r16(n.next), class: r16(n.next + 2) });
    i = n.next + 4;
  }
  for (let k = 0; k < an; k++) {
    const n = readName(b, off, end, i);
    if (n === undefined || n.next + 10 > end) return undefined;
    const type = r16(n.next);
    const klass = r16(n.next + 2);
    const ttl = readIpv4(b, n.next + 4);
    const rdlen = r16(n.next + 8);
    const rd = n.next + 10;
    if (rd + rdlen > end) return undefined;
    // RFC 2181 §8: a TTL with the top bit set counts as zero.
    const rec = { name: n.name, type, class: klass, ttl: ttl > 0x7fffffff ? 0 : ttl };
    if (type === DnsType.A && rdlen === 4) answers.push({ ...rec, address: readIpv4(b, rd) });
    else if (type === DnsType.CNAME) {
      const t = readName(b, off, end, rd);
      if (t === undefined) return undefined;
      answers.push({ ...rec, target: t.name });
    } else answers.push(rec);
    i = rd + rdlen;
  }
  return {
    id: r16(off),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 15,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    rcode: flags & 15,
    questions,
    answers,
  };
}
