import { bufFrom, emptyStats, heapBuf, type NetBuf, type NetDevice, type NetStats } from '@uk/netdev';

/** What a link does to frames; every probability is per frame and drawn from the seeded generator. */
export interface Impairments {
  /** Probability a frame is lost. */
  loss?: number;
  /** Probability a frame is delivered twice. */
  duplicate?: number;
  /** Probability a frame is held back by up to reorderMs, so later frames overtake it. */
  reorder?: number;
  reorderMs?: number;
  /** Probability one random byte of a frame is flipped (checksums should catch it). */
  corrupt?: number;
  /** One-way delay, ms. */
  latencyMs?: number;
  /** Uniform extra delay 0..jitterMs, ms (also reorders). */
  jitterMs?: number;
}

export interface LinkOptions extends Impairments {
  seed?: number;
  /** Largest Ethernet payload the ports announce (default 1500). */
  mtu?: number;
  /** Frames in flight at most; more are dropped as a full queue would (default 10 000). */
  capacity?: number;
}

/** A small deterministic generator (mulberry32), so an impaired run replays exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly to: LinkPort;
  readonly bytes: Uint8Array;
}

/**
 * A shared segment (a hub) joining any number of ports, on virtual time: a frame sent by one
 * port reaches every other port after the latency, subject to seeded loss, duplication,
 * reordering and corruption. Time moves only when the owner calls deliver(now) — the World
 * does — so runs are deterministic. Impairments may be changed between steps.
 */
export class TestLink {
  readonly ports: LinkPort[] = [];
  readonly random: () => number;
  impairments: Impairments;
  readonly stats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, overflow: 0 };
  readonly #mtu: number;
  readonly #capacity: number;
  #inflight: InFlight[] = [];
  #seq = 0;

  constructor(
    readonly clock: () => number,
    opts: LinkOptions = {},
  ) {
    this.random = mulberry32(opts.seed ?? 1);
    this.#mtu = opts.mtu ?? 1500;
    this.#capacity = opts.capacity ?? 10_000;
    this.impairments = { ...opts };
  }

  /** A new port; its MAC defaults to 02:00:00:00:00:<n>. */
  port(name = `eth${this.ports.length}`, mac?: Uint8Array): LinkPort {
    const p = new LinkPort(this, name, mac ?? Uint8Array.of(2, 0, 0, 0, 0, this.ports.length + 1), this.#mtu);
    this.ports.push(p);
    return p;
  }

  /** Called by a port: schedules the frame for every other port. */
  carry(from: LinkPort, frame: Uint8Array): void {
    this.stats.sent++;
    const imp = this.impairments;
    const r = this.random;
    for (const to of this.ports) {
      if (to === from) continue;
      if ((imp.loss ?? 0) > 0 && r() < (imp.loss ?? 0)) {
        this.stats.lost++;
        continue;
      }
      const copies = (imp.duplicate ?? 0) > 0 && r() < (imp.duplicate ?? 0) ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      for (let c = 0; c < copies; c++) {
        let at = this.clock() + (imp.latencyMs ?? 0) + (imp.jitterMs ?? 0) * r();
        if ((imp.reorder ?? 0) > 0 && r() < (imp.reorder ?? 0)) {
          at += (imp.reorderMs ?? 10) * r();
          this.stats.reordered++;
        }
        let bytes = frame.slice();
        if ((imp.corrupt ?? 0) > 0 && r() < (imp.corrupt ?? 0) && bytes.length > 0) {
          bytes = bytes.slice();
          bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
          this.stats.corrupted++;
        }
        if (this.#inflight.length >= this.#capacity) {
          this.stats.overflow++;
          continue;
        }
        this.#insert({ at, seq: this.#seq++, to, bytes });
      }
    }
  }

  #insert(f: InFlight): void {
    // Sorted by (at, seq); binary search for the insertion point.
    const q = this.#inflight;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid].at < f.at || (q[mid].at === f.at && q[mid].seq < f.seq)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, f);
  }

  /** Delivers every frame due at `now`; returns how many. */
  deliver(now: number): number {
    let n = 0;
    while (this.#inflight.length > 0 && this.#inflight[0].at <= now) {
      const f = this.#inflight.shift() as InFlight;
      this.stats.delivered++;
      f.to.receive(f.bytes);
      n++;
    }
    return n;
  }

  /** When the next frame is due (Infinity: none in flight). */
  nextDelivery(): number {
    return this.#inflight[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  get inFlight(): number {
    return this.#inflight.length;
  }
}

/** One port of a TestLink, as the stack sees it: a NetDevice. */
export class LinkPort implements NetDevice {
  readonly stats: NetStats = emptyStats();
  linkUp = true;
  offloads = { txChecksum: false, rxChecksumVerified: false };
  readonly txHeadroom = 0;
  /** Received buffers not yet released: should return to 0 once the stack is idle. */
  rxOutstanding = 0;
  /** Frames copied out on transmit (every one: the link owns its own copies). */
  readonly tap: Array<(frame: Uint8Array, direction: 'tx' | 'rx') => void> = [];
  #receiver: ((f: NetBuf) => void) | undefined;

  constructor(
    readonly link: TestLink,
    readonly name: string,
    readonly mac: Uint8Array,
    readonly mtu: number,
  ) {}

  allocTx(length: number, headroom = 0): NetBuf {
    return heapBuf(length, headroom);
  }

  transmit(frames: readonly NetBuf[]): number {
    for (const f of frames) {
      const bytes = f.store.slice(f.offset, f.offset + f.length);
      f.release();
      this.stats.txPackets++;
      this.stats.txBytes += bytes.length;
      for (const t of this.tap) t(bytes, 'tx');
      if (this.linkUp) this.link.carry(this, bytes);
    }
    this.stats.notifications++;
    return frames.length;
  }

  onTxReady(): void {}

  setReceiver(handler: (frame: NetBuf) => void): void {
    this.#receiver = handler;
  }

  onLinkChange(): void {}

  receive(bytes: Uint8Array): void {
    if (!this.linkUp || this.#receiver === undefined) {
      this.stats.rxDropped++;
      return;
    }
    for (const t of this.tap) t(bytes, 'rx');
    const b = bufFrom(bytes, 0);
    let released = false;
    this.rxOutstanding++;
    b.release = () => {
      if (released) throw new Error(`${this.name}: a received buffer was released twice`);
      released = true;
      this.rxOutstanding--;
    };
    this.stats.rxPackets++;
    this.stats.rxBytes += bytes.length;
    this.#receiver(b);
  }
}
