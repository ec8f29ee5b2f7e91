import { KernelError } from '@uk/hal';
import { IPV4_ANY, type Ipv4Address, parseIpv4 } from '../ip/address.js';
import type { CoreTimer, TimerQueue } from '../stack/timers.js';
import type { UdpDatagram, UdpLayer, UdpPcb } from '../udp/udp.js';
import { DNS_CLASS_IN, DNS_PORT, DnsRcode, DnsType, dnsLength, emitDns, isValidDnsName, parseDns } from '../wire/dns.js';

export interface DnsOptions {
  /** Wait for the first answer (default 1000 ms); doubles with each retry. */
  readonly timeoutMs?: number;
  /** Queries sent per lookup, across the servers in turn (default 4). */
  readonly attempts?: number;
  /** Names cached at once (default 256); the oldest go first. */
  readonly cacheSize?: number;
  /** Cap on any TTL, seconds (default 1 day). */
  readonly maxTtl?: number;
  /** How long a "no such name" is remembered, seconds (RFC 2308; default 60). */
  readonly negativeTtl?: number;
  /** Lookups in flight at once (default 64): more fail with EAGAIN. */
  readonly maxInFlight?: number;
}

interface CacheEntry {
  readonly addresses: readonly Ipv4Address[] | null;
  readonly expires: number;
}

interface Query {
  readonly name: string;
  readonly waiters: Array<{ resolve(a: Ipv4Address[]): void; reject(e: unknown): void }>;
  pcb: UdpPcb | undefined;
  id: number;
  attempt: number;
  server: Ipv4Address;
  timer: CoreTimer | undefined;
}

/**
 * A stub resolver (RFC 1035 §7): A records over UDP, retries across the configured servers
 * with a doubling timeout, CNAME chains followed within the answer, and a cache that honours
 * each answer's TTL (and remembers NXDOMAIN for negativeTtl). Each query uses a fresh random
 * port and id (RFC 5452).
 */
export class DnsClient {
  servers: Ipv4Address[] = [];
  readonly #udp: UdpLayer;
  readonly #timers: TimerQueue;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #opts: Required<DnsOptions>;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Query>();
  readonly stats = { queries: 0, retries: 0, cacheHits: 0, answers: 0, ignored: 0 };

  constructor(udp: UdpLayer, timers: TimerQueue, now: () => number, random: () => number, opts: DnsOptions = {}) {
    this.#udp = udp;
    this.#timers = timers;
    this.#now = now;
    this.#random = random;
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 1000,
      attempts: opts.attempts ?? 4,
      cacheSize: opts.cacheSize ?? 256,
      maxTtl: opts.maxTtl ?? 86_400,
      negativeTtl: opts.negativeTtl ?? 60,
      maxInFlight: opts.maxInFlight ?? 64,
    };
  }

  /**
   * The IPv4 addresses of `name` (a dotted quad is returned as it is). Rejects ENOENT for a
   * name that does not exist or has no A record, ETIMEDOUT when no server answered,
   * ENETUNREACH with no server configured, EINVAL for a malformed name, EIO for a server error.
   */
  resolve(name: string): Promise<Ipv4Address[]> {
    const literal = parseIpv4(name);
    if (literal !== undefined) return Promise.resolve([literal]);
    const key = name.toLowerCase().replace(/\.$/, '');
    if (!isValidDnsName(key)) return Promise.reject(new KernelError('EINVAL', `"${name}" is not a valid host name`));
    const cached = this.lookupCached(key);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached === null ? Promise.reject(notFound(key)) : Promise.resolve([...cached]);
    }
    if (this.servers.length === 0) return Promise.reject(new KernelError('ENETUNREACH', `cannot resolve "${name}": no DNS server is configured (DHCP gives one, or pass dns: [...])`));
    return new Promise<Ipv4Address[]>((resolve, reject) => {
      const q = this.#inflight.get(key);
      if (q !== undefined) {
        q.waiters.push({ resolve, reject });
        return;
      }
      if (this.#inflight.size >= this.#opts.maxInFlight) {
        reject(new KernelError('EAGAIN', `${this.#opts.maxInFlight} DNS lookups are in flight; try again`));
        return;
      }
      const query: Query = { name: key, waiters: [{ resolve, reject }], pcb: undefined, id: 0, attempt: 0, server: 0, timer: undefined };
      this.#inflight.set(key, query);
      this.#send(query);
    });
  }

  /** A cached answer: addresses, null for a cached "no such name", undefined when not cached or expired. */
  lookupCached(name: string): readonly Ipv4Address[] | null | undefined {
    const e = this.#cache.get(name);
    if (e === undefined) return undefined;
    if (e.expires <= this.#now()) {
      this.#cache.delete(name);
      return undefined;
    }
    return e.addresses;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  flushCache(): void {
    this.#cache.clear();
  }

  #send(q: Query): void {
    if (q.attempt >= this.#opts.attempts || this.servers.length === 0) {
      this.#finish(q, new KernelError('ETIMEDOUT', `no DNS server answered for "${q.name}" after ${q.attempt} queries`));
      return;
    }
    q.pcb?.close();
    q.server = this.servers[q.attempt % this.servers.length];
    q.id = Math.floor(this.#random() * 0x10000) & 0xffff;
    const timeout = this.#opts.timeoutMs * 2 ** Math.floor(q.attempt / this.servers.length);
    if (q.attempt > 0) this.stats.retries++;
    q.attempt++;
    this.stats.queries++;
    q.timer = this.#timers.after(timeout, () => this.#send(q));
    try {
      q.pcb = this.#udp.bind(IPV4_ANY, 0, (d) => this.#input(q, d));
    } catch (e) {
      this.#finish(q, e);
      return;
    }
    const msg = { id: q.id, response: false, truncated: false, recursionDesired: true, rcode: 0, questions: [{ name: q.name, type: DnsType.A, class: DNS_CLASS_IN }], answers: [] };
    const buf = this.#udp.allocBuf(q.server, dnsLength(msg));
    if (buf === null) return; // the timer retries
    emitDns(buf.store, buf.offset, msg);
    q.pcb.sendBuf(buf, q.server, DNS_PORT);
  }

  #input(q: Query, d: UdpDatagram): void {
    const m = parseDns(d.buf.store, d.buf.offset, d.buf.length);
    const from = d.src;
    const port = d.srcPort;
    d.buf.release();
    // Only the server we asked, from port 53, answering our id and our question (RFC 5452 §9.1).
    if (m === undefined || !m.response || m.id !== q.id || from !== q.server || port !== DNS_PORT || m.questions.length !== 1 || m.questions[0].name !== q.name) {
      this.stats.ignored++;
      return;
    }
    this.stats.answers++;
    if (m.rcode === DnsRcode.NxDomain) {
      this.#store(q.name, null, this.#opts.negativeTtl);
      this.#finish(q, notFound(q.name));
      return;
    }
    if (m.rcode !== DnsRcode.NoError) {
      // SERVFAIL, REFUSED...: ask the next server now.
      q.timer?.cancel();
      if (q.attempt >= this.#opts.attempts) this.#finish(q, new KernelError('EIO', `DNS servers failed to resolve "${q.name}" (rcode ${m.rcode})`));
      else this.#send(q);
      return;
    }
    let target = q.name;
    let ttl = this.#opts.maxTtl;
    const addresses: Ipv4Address[] = [];
    for (let hops = 0; hops < 8; hops++) {
      const cname = m.answers.find((a) => a.name === target && a.type === DnsType.CNAME && a.target !== undefined);
      for (const a of m.answers) {
        if (a.name === target && a.type === DnsType.A && a.class === DNS_CLASS_IN && a.address !== undefined) {
          addresses.push(a.address);
          ttl = Math.min(ttl, a.ttl);
        }
      }
      if (addresses.length > 0 || cname === undefined) break;
      ttl = Math.min(ttl, cname.ttl);
      target = cname.target as string;
    }
    if (addresses.length === 0) {
      this.#store(q.name, null, this.#opts.negativeTtl);
      this.#finish(q, new KernelError('ENOENT', `"${q.name}" has no IPv4 address`));
      return;
    }
    this.#store(q.name, addresses, ttl);
    this.#finish(q, addresses);
  }

  #store(name: string, addresses: Ipv4Address[] | null, ttlSecs: number): void {
    if (ttlSecs <= 0) return;
    this.#cache.delete(name);
    while (this.#cache.size >= this.#opts.cacheSize) {
      const oldest = this.#cache.keys().next().value as string;
      this.#cache.delete(oldest);
    }
    this.#cache.set(name, { addresses, expires: this.#now() + Math.min(ttlSecs, this.#opts.maxTtl) * 1000 });
  }

  #finish(q: Query, outcome: Ipv4Address[] | unknown): void {
    q.timer?.cancel();
    q.pcb?.close();
    q.pcb = undefined;
    this.#inflight.delete(q.name);
    for (const w of q.waiters) {
      if (Array.isArray(outcome)) w.resolve([...outcome]);
      else w.reject(outcome);
    }
  }
}

function notFound(name: string): KernelError {
  return new KernelError('ENOENT', `"${name}" does not exist (NXDOMAIN)`);
}
