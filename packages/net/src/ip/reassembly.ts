import { heapBuf, type NetBuf } from '@uk/netdev';
import type { Ipv4Address } from './address.js';

export interface ReassemblyLimits {
  /** Datagrams being reassembled at once; the oldest is dropped to make room. */
  readonly maxDatagrams: number;
  /** Bytes of fragments held in all; the oldest datagrams are dropped to stay below. */
  readonly maxBytes: number;
  /** Fragments held per datagram; more drops the datagram (a flood of tiny overlapping pieces). */
  readonly maxFragments: number;
  /** A datagram not complete this long after its first fragment is dropped (RFC 791 suggests 15 s at least). */
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = { maxDatagrams: 16, maxBytes: 256 * 1024, maxFragments: 64, timeoutMs: 30_000 };

interface Fragment {
  readonly offset: number;
  readonly data: Uint8Array;
}

interface Datagram {
  readonly key: string;
  readonly expires: number;
  fragments: Fragment[];
  bytes: number;
  /** Length of the whole payload once the last fragment (MF clear) has come; -1 before. */
  total: number;
}

/**
 * IPv4 fragment reassembly (RFC 791 §3.2, RFC 815's idea of holes reduced to a sorted list).
 * Fragments are copied out of the receive buffers at once, so that device buffers go back to
 * the ring; memory and time are bounded by {@link ReassemblyLimits}.
 */
export class Reassembler {
  readonly #pending = new Map<string, Datagram>();
  #bytes = 0;
  /** Datagrams dropped: timed out, evicted, or inconsistent. */
  dropped = 0;

  constructor(readonly limits: ReassemblyLimits) {}

  /**
   * Adds one fragment's payload (`offset` in bytes, `more` = MF). Returns the whole payload in
   * a new buffer once every byte has arrived, else null.
   */
  add(now: number, src: Ipv4Address, dst: Ipv4Address, id: number, protocol: number, offset: number, more: boolean, data: Uint8Array): NetBuf | null {
    const end = offset + data.length;
    if (end > 65_535 - 20 || (more && data.length % 8 !== 0) || (more && data.length === 0)) return null;
    const key = `${src}:${dst}:${id}:${protocol}`;
    let d = this.#pending.get(key);
    if (d === undefined) {
      while (this.#pending.size >= this.limits.maxDatagrams) this.#evictOldest();
      d = { key, expires: now + this.limits.timeoutMs, fragments: [], bytes: 0, total: -1 };
      this.#pending.set(key, d);
    }
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || d.fragments.some((f) => f.offset + f.data.length > end)) return this.#drop(d);
      d.total = end;
    } else if (d.total >= 0 && end > d.total) return this.#drop(d);
    if (d.fragments.length >= this.limits.maxFragments) return this.#drop(d);
    if (data.length > this.limits.maxBytes) return this.#drop(d);
    while (this.#bytes + data.length > this.limits.maxBytes && this.#pending.size > 0) {
      const oldest = this.#pending.values().next().value as Datagram;
      this.#drop(oldest);
      if (oldest === d) return null;
    }
    const frag = { offset, data: data.slice() };
    const i = d.fragments.findIndex((f) => f.offset > offset);
    if (i < 0) d.fragments.push(frag);
    else d.fragments.splice(i, 0, frag);
    d.bytes += data.length;
    this.#bytes += data.length;
    if (d.total < 0) return null;
    // Complete when the sorted fragments cover [0, total) without a hole.
    let covered = 0;
    for (const f of d.fragments) {
      if (f.offset > covered) return null;
      covered = Math.max(covered, f.offset + f.data.length);
    }
    if (covered < d.total) return null;
    const out = heapBuf(d.total, 64);
    // Later fragments overwrite earlier ones where they overlap (RFC 5722's concern is IPv6).
    for (const f of d.fragments) out.store.set(f.data, out.offset + f.offset);
    this.#remove(d);
    return out;
  }

  /** Drops datagrams that have timed out; returns the next expiry (Infinity: none). */
  expire(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.#pending.values()) {
      if (d.expires <= now) this.#drop(d);
      else next = Math.min(next, d.expires);
    }
    return next;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get datagrams(): number {
    return this.#pending.size;
  }

  #evictOldest(): void {
    const oldest = this.#pending.values().next().value as Datagram | undefined;
    if (oldest !== undefined) this.#drop(oldest);
  }

  #drop(d: Datagram): null {
    this.dropped++;
    this.#remove(d);
    return null;
  }

  #remove(d: Datagram): void {
    if (this.#pending.get(d.key) !== d) return;
    this.#pending.delete(d.key);
    this.#bytes -= d.bytes;
  }
}
