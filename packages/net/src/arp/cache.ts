import type { NetBuf } from '@uk/netdev';
import type { Ipv4Address } from '../ip/address.js';
import type { MacAddress } from '../wire/ethernet.js';

export interface ArpLimits {
  /** Entries in the cache; the least recently updated resolved entry is evicted for a new one. */
  readonly maxEntries: number;
  /** Packets queued for one address awaiting its reply; the oldest is dropped past this. */
  readonly maxQueuedPerEntry: number;
  /** Packets queued for all addresses together. */
  readonly maxQueued: number;
  /** How long a resolved entry is trusted. */
  readonly entryTtlMs: number;
  /** Between requests for an unresolved address. */
  readonly retryMs: number;
  /** Requests sent before giving up (and dropping what was queued). */
  readonly maxRequests: number;
}

export const DEFAULT_ARP_LIMITS: ArpLimits = { maxEntries: 128, maxQueuedPerEntry: 4, maxQueued: 32, entryTtlMs: 120_000, retryMs: 1_000, maxRequests: 3 };

interface Entry {
  mac: MacAddress | null;
  /** Resolved: when it expires. Pending: when the next request is due. */
  deadline: number;
  requests: number;
  queue: NetBuf[];
}

/**
 * The ARP cache of one interface (RFC 826; timeouts as RFC 1122 §2.3.2.1 asks): resolved
 * entries that age out, pending entries that retry a bounded number of times, and a bounded
 * queue of packets (IP header written, link header not) waiting for each.
 */
export class ArpCache {
  readonly #entries = new Map<Ipv4Address, Entry>();
  #queued = 0;
  /** Packets dropped: queue overflow or resolution that failed. */
  dropped = 0;

  constructor(readonly limits: ArpLimits) {}

  /** The hardware address of `ip` if resolved and fresh. */
  lookup(ip: Ipv4Address, now: number): MacAddress | undefined {
    const e = this.#entries.get(ip);
    if (e === undefined || e.mac === null) return undefined;
    if (e.deadline <= now) {
      this.#entries.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  /**
   * Records `ip` is at `mac` — for an existing entry always, for a new one only if `create`
   * (the request was for us: RFC 826's merge rule). Returns the packets that waited for it.
   */
  update(ip: Ipv4Address, mac: Uint8Array, now: number, create: boolean): NetBuf[] {
    const e = this.#entries.get(ip);
    if (e === undefined) {
      if (!create) return [];
      this.#makeRoom();
      this.#entries.set(ip, { mac: mac.slice(0, 6), deadline: now + this.limits.entryTtlMs, requests: 0, queue: [] });
      return [];
    }
    // Re-insert: Map order is then the order of last update, oldest first.
    this.#entries.delete(ip);
    this.#entries.set(ip, e);
    e.mac = mac.slice(0, 6);
    e.deadline = now + this.limits.entryTtlMs;
    e.requests = 0;
    const q = e.queue;
    e.queue = [];
    this.#queued -= q.length;
    return q;
  }

  /**
   * Queues `packet` until `ip` resolves. Returns true when a request should be sent now (the
   * entry is new). Takes ownership of `packet`; it may be dropped at once to respect the limits.
   */
  enqueue(ip: Ipv4Address, packet: NetBuf, now: number): boolean {
    let e = this.#entries.get(ip);
    let fresh = false;
    if (e === undefined || (e.mac !== null && e.deadline <= now)) {
      if (e === undefined) this.#makeRoom();
      e = { mac: null, deadline: now + this.limits.retryMs, requests: 1, queue: [] };
      this.#entries.set(ip, e);
      fresh = true;
    }
    if (e.queue.length >= this.limits.maxQueuedPerEntry) this.#dropOne(e.queue.shift());
    while (this.#queued >= this.limits.maxQueued && this.#dropOldestQueued()) {
      // Keep dropping the oldest queued packet anywhere until there is room.
    }
    e.queue.push(packet);
    this.#queued++;
    return fresh;
  }

  /**
   * Ages the cache: expired entries go, pending ones get another request through `request`,
   * or give up after maxRequests and drop their packets. Returns the next deadline.
   */
  poll(now: number, request: (ip: Ipv4Address) => void): number {
    let next = Number.POSITIVE_INFINITY;
    for (const [ip, e] of this.#entries) {
      if (e.deadline > now) {
        if (e.mac === null) next = Math.min(next, e.deadline);
        // Resolved entries expire lazily in lookup; no wake-up needed for them.
        continue;
      }
      if (e.mac !== null) {
        this.#entries.delete(ip);
        continue;
      }
      if (e.requests >= this.limits.maxRequests) {
        for (const p of e.queue) this.#dropOne(p);
        e.queue = [];
        this.#entries.delete(ip);
        continue;
      }
      e.requests++;
      e.deadline = now + this.limits.retryMs;
      next = Math.min(next, e.deadline);
      request(ip);
    }
    return next;
  }

  get size(): number {
    return this.#entries.size;
  }

  get queued(): number {
    return this.#queued;
  }

  entries(): Array<{ ip: Ipv4Address; mac: MacAddress | null; deadline: number }> {
    return [...this.#entries].map(([ip, e]) => ({ ip, mac: e.mac, deadline: e.deadline }));
  }

  /** Drops everything (the interface went down or changed address). */
  clear(): void {
    for (const e of this.#entries.values()) for (const p of e.queue) this.#dropOne(p);
    this.#queued = 0;
    this.#entries.clear();
  }

  #makeRoom(): void {
    if (this.#entries.size < this.limits.maxEntries) return;
    // The oldest resolved entry if any (Map order), else the oldest pending one.
    let victim: Ipv4Address | undefined;
    for (const [ip, e] of this.#entries) {
      if (e.mac !== null) {
        victim = ip;
        break;
      }
      victim ??= ip;
    }
    if (victim === undefined) return;
    const e = this.#entries.get(victim) as Entry;
    for (const p of e.queue) this.#dropOne(p);
    this.#entries.delete(victim);
  }

  #dropOldestQueued(): boolean {
    for (const e of this.#entries.values()) {
      if (e.queue.length > 0) {
        this.#dropOne(e.queue.shift());
        return true;
      }
    }
    return false;
  }

  #dropOne(p: NetBuf | undefined): void {
    if (p === undefined) return;
    this.#queued--;
    this.dropped++;
    p.release();
  }
}
