import type { NetBuf } from '@uk/netdev';
import type { TcpConfigInput } from '../../src/tcp/config.js';
import { TcpTransport } from '../../src/tcp/transport.js';
import type { TcpModule } from '../../src/tcp/module.js';
import type { Waiter } from '../../src/socket/waiter.js';
import { A, B, FakeIp, seeded } from './harness.js';

export interface LinkSpec {
  seed?: number;
  loss?: number;
  duplicate?: number;
  reorder?: number;
  /** Extra delay of a reordered packet, up to this (ms). */
  reorderMs?: number;
  latencyMs?: number;
  /** Probability a byte of a packet is flipped (checksums must catch it). */
  corrupt?: number;
}

interface Flight {
  at: number;
  n: number;
  buf: NetBuf;
  src: number;
  dst: number;
}

/**
 * Two TCP transports joined by a seeded, impaired link on virtual time: the stand-in for two
 * stacks when only TCP is under test. Packets are NetBuf views handed across without a copy
 * (a duplicate is a copy), so buffer ownership is exercised as a real device would.
 */
export class Pair {
  now = 0;
  readonly ipA: FakeIp;
  readonly ipB: FakeIp;
  readonly a: TcpTransport;
  readonly b: TcpTransport;
  readonly stats = { sent: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, delivered: 0 };
  link: LinkSpec;
  private readonly rnd: () => number;
  private heap: Flight[] = [];
  private n = 0;
  private readonly offload: boolean;

  constructor(
    opts: {
      link?: LinkSpec;
      mtu?: number;
      offload?: boolean;
      configA?: TcpConfigInput;
      configB?: TcpConfigInput;
      /** Use these modules (tcp()) instead of bare transports: they are attached here. */
      modules?: [TcpModule, TcpModule];
      waiter?: Waiter;
    } = {},
  ) {
    this.link = opts.link ?? {};
    this.rnd = seeded(this.link.seed ?? 1);
    this.offload = opts.offload ?? true;
    this.ipA = new FakeIp(A, opts.mtu ?? 1500, this.offload);
    this.ipB = new FakeIp(B, opts.mtu ?? 1500, this.offload);
    this.ipA.sink = (buf, src, dst) => this.send(buf, src, dst);
    this.ipB.sink = (buf, src, dst) => this.send(buf, src, dst);
    const clock = (): number => this.now;
    const wake = { wake: (): void => {} };
    if (opts.modules !== undefined) {
      const [ma, mb] = opts.modules;
      const stack = (ip: FakeIp) => ({ ip, now: clock, registerTransport: () => {}, wake: () => {} });
      this.a = ma.attach(stack(this.ipA), { waiter: opts.waiter }).raw;
      this.b = mb.attach(stack(this.ipB), { waiter: opts.waiter }).raw;
    } else {
      this.a = new TcpTransport(this.ipA, clock, { random: seeded(101), ...opts.configA }, wake);
      this.b = new TcpTransport(this.ipB, clock, { random: seeded(202), ...opts.configB }, wake);
    }
  }

  private chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.rnd() / 4294967296 < p;
  }

  private send(buf: NetBuf, src: number, dst: number): void {
    this.stats.sent++;
    const l = this.link;
    if (this.chance(l.loss)) {
      this.stats.lost++;
      buf.release();
      return;
    }
    const base = this.now + (l.latencyMs ?? 1);
    if (this.chance(l.duplicate)) {
      this.stats.duplicated++;
      const pool = dst === A ? this.ipA.pool : this.ipB.pool;
      const copy = pool.get(buf.length, 64) as NetBuf;
      copy.store.set(buf.store.subarray(buf.offset, buf.offset + buf.length), copy.offset);
      this.push({ at: base + (this.rnd() / 4294967296) * (l.reorderMs ?? 2), n: this.n++, buf: copy, src, dst });
    }
    let at = base;
    if (this.chance(l.reorder)) {
      this.stats.reordered++;
      at += (this.rnd() / 4294967296) * (l.reorderMs ?? 2);
    }
    if (this.chance(l.corrupt) && buf.length > 0) {
      this.stats.corrupted++;
      // Corrupt a copy: the original view's bytes belong to the sender's retransmission queue.
      const pool = dst === A ? this.ipA.pool : this.ipB.pool;
      const copy = pool.get(buf.length, 64) as NetBuf;
      copy.store.set(buf.store.subarray(buf.offset, buf.offset + buf.length), copy.offset);
      buf.release();
      copy.store[copy.offset + (this.rnd() % copy.length)] ^= 1 << this.rnd() % 8;
      buf = copy;
    }
    this.push({ at, n: this.n++, buf, src, dst });
  }

  private push(f: Flight): void {
    const h = this.heap;
    h.push(f);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Flight {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Flight;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  /** Packets in flight on the link. */
  get inFlight(): number {
    return this.heap.length;
  }

  /** One step at the current time: deliver what is due, poll both; then move the clock to the next event. False when nothing is left to happen. */
  step(): boolean {
    while (this.heap.length > 0 && this.heap[0].at <= this.now) {
      const f = this.pop();
      this.stats.delivered++;
      const to = f.dst === A ? this.a : this.b;
      to.input({ src: f.src, dst: f.dst, ttl: 64, checksumVerified: this.offload, ifindex: 0 }, f.buf);
    }
    const na = this.a.poll(this.now);
    const nb = this.b.poll(this.now);
    let next = Math.min(na, nb);
    if (this.heap.length > 0) next = Math.min(next, this.heap[0].at);
    if (next === Number.POSITIVE_INFINITY) return false;
    if (next > this.now) this.now = next;
    return true;
  }

  /** Steps until `done()` or `maxMs` of virtual time pass; returns whether done. */
  run(done: () => boolean, maxMs = 600_000): boolean {
    const end = this.now + maxMs;
    while (!done()) {
      if (this.now > end) return false;
      if (!this.step()) return done();
    }
    return true;
  }

  /** Like run, letting promise continuations (the socket API) run between steps. */
  async runAsync(done: () => boolean, maxMs = 600_000): Promise<boolean> {
    const end = this.now + maxMs;
    for (;;) {
      await new Promise<void>((r) => setImmediate(r));
      if (done()) return true;
      if (this.now > end) return false;
      // Several steps per host turn keep the promise plumbing from dominating.
      for (let i = 0; i < 64 && !done(); i++) {
        if (!this.step()) {
          await new Promise<void>((r) => setImmediate(r));
          if (!this.step()) return done();
        }
      }
    }
  }
}

function less(x: Flight, y: Flight): boolean {
  return x.at < y.at || (x.at === y.at && x.n < y.n);
}
