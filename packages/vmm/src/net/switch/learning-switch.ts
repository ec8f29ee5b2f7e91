import type { FramePort } from '../frame-port.js';
import { formatMac, isGroupMac } from '../mac.js';
import { type ImpairmentOptions, type ImpairmentStats, isImpaired, LinkImpairment } from './link-impairment.js';

/** How long a learned address stays valid without a frame from it (Linux bridges: 300 s). */
const AGEING_NS = 300e9;
/** Frames queued while a delivery is in progress (a receiver that sends from inside its callback). */
const MAX_REENTRANT = 4096;

export interface SwitchPortOptions extends ImpairmentOptions {
  /** Name of the port in messages and statistics ("eth0 of guest a", "test endpoint"). */
  readonly label?: string;
}

export interface SwitchPortStats {
  /** Frames the port's owner sent into the switch, and bytes. */
  sent: number;
  sentBytes: number;
  /** Frames the switch delivered to the port's owner, and bytes. */
  received: number;
  receivedBytes: number;
}

/**
 * A port of a NetSwitch: the switch end of one cable. Whatever plugs in — a guest's NIC, a
 * test's endpoint — sends frames with `send` and gets frames through its receiver. Impairment
 * options make the cable lossy, duplicating, reordering or slow, in both directions, each
 * with its own seeded decisions.
 */
export class SwitchPort implements FramePort {
  readonly label: string;
  readonly stats: SwitchPortStats = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0 };
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private readonly inbound: LinkImpairment | undefined;
  private readonly outbound: LinkImpairment | undefined;
  private attached = true;

  constructor(
    readonly sw: NetSwitch,
    readonly id: number,
    options: SwitchPortOptions,
  ) {
    this.label = options.label ?? `port ${id}`;
    if (isImpaired(options)) {
      const seed = options.seed ?? 1;
      this.inbound = new LinkImpairment({ ...options, seed }, (f) => sw.ingress(this, f));
      // The other direction draws from its own sequence.
      this.outbound = new LinkImpairment({ ...options, seed: (seed ^ 0x5bd1_e995) >>> 0 }, (f) => this.toOwner(f));
    }
  }

  /** Impairment counters of the two directions (undefined for a perfect cable). */
  get impairment(): { inbound: ImpairmentStats; outbound: ImpairmentStats } | undefined {
    if (this.inbound === undefined || this.outbound === undefined) return undefined;
    return { inbound: this.inbound.stats, outbound: this.outbound.stats };
  }

  send(frame: Uint8Array): void {
    if (!this.attached) return;
    this.stats.sent++;
    this.stats.sentBytes += frame.length;
    if (this.inbound !== undefined) this.inbound.pass(frame);
    else this.sw.ingress(this, frame);
  }

  setReceiver(receive: (frame: Uint8Array) => void): void {
    this.receiver = receive;
  }

  /** The switch hands a frame to this port. */
  egress(frame: Uint8Array): void {
    if (this.outbound !== undefined) this.outbound.pass(frame);
    else this.toOwner(frame);
  }

  private toOwner(frame: Uint8Array): void {
    if (!this.attached) return;
    this.stats.received++;
    this.stats.receivedBytes += frame.length;
    this.receiver?.(frame);
  }

  close(): void {
    if (!this.attached) return;
    this.attached = false;
    this.inbound?.close();
    this.outbound?.close();
    this.sw.detach(this);
  }
}

export interface SwitchStats {
  /** Frames that came in on a port. */
  frames: number;
  /** Frames sent to the one port their destination was learned on. */
  unicast: number;
  /** Frames sent to every other port (group or unknown destination). */
  flooded: number;
  /** Frames whose destination is on the port they came from (not sent back). */
  filtered: number;
  /** Frames dropped because receivers kept sending from inside their callbacks. */
  overflow: number;
}

/**
 * An Ethernet learning switch that joins guests (each NIC on a port) and host-side
 * endpoints in one process: it learns source addresses per port, sends a frame to the port
 * its destination was learned on, and floods group and unknown destinations to every other
 * port. Delivery is synchronous; a receiver that sends from inside its callback has its
 * frames forwarded after the current one, so order is kept and nothing re-enters.
 *
 * `NetSwitch.named(name)` is the process-wide switch of that name, which is how several
 * machines given `--net switch=lan` meet.
 */
export class NetSwitch {
  private static readonly registry = new Map<string, NetSwitch>();

  /** The switch of this name in this process, made on first use. */
  static named(name: string): NetSwitch {
    let sw = NetSwitch.registry.get(name);
    if (sw === undefined) {
      sw = new NetSwitch(name);
      NetSwitch.registry.set(name, sw);
    }
    return sw;
  }

  /** Forgets a named switch (its ports keep working until closed). */
  static forget(name: string): void {
    NetSwitch.registry.delete(name);
  }

  readonly stats: SwitchStats = { frames: 0, unicast: 0, flooded: 0, filtered: 0, overflow: 0 };
  private readonly ports: SwitchPort[] = [];
  private nextId = 0;
  /** Learned addresses: the 48-bit MAC as a number → port and when it was last seen. */
  private readonly table = new Map<number, { port: SwitchPort; seen: number }>();
  private forwarding = false;
  private readonly queue: Array<{ port: SwitchPort; frame: Uint8Array }> = [];

  constructor(readonly name = 'switch') {}

  /** Plugs in a new port. */
  attach(options: SwitchPortOptions = {}): SwitchPort {
    const p = new SwitchPort(this, this.nextId++, options);
    this.ports.push(p);
    return p;
  }

  /** Ports plugged in now. */
  get portCount(): number {
    return this.ports.length;
  }

  /** The learned addresses, "52:54:00:12:34:56" → port label (for tests and messages). */
  addresses(): Map<string, string> {
    const out = new Map<string, string>();
    const t = now();
    for (const [mac, e] of this.table) if (t - e.seen < AGEING_NS) out.set(formatMac(macBytes(mac)), e.port.label);
    return out;
  }

  detach(port: SwitchPort): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [mac, e] of this.table) if (e.port === port) this.table.delete(mac);
  }

  /** A frame enters the switch from `port` (lent for the call). */
  ingress(port: SwitchPort, frame: Uint8Array): void {
    if (frame.length < 14) return;
    if (this.forwarding) {
      if (this.queue.length >= MAX_REENTRANT) this.stats.overflow++;
      else this.queue.push({ port, frame: frame.slice() });
      return;
    }
    this.forwarding = true;
    try {
      this.forward(port, frame);
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i];
        this.forward(q.port, q.frame);
      }
    } finally {
      this.queue.length = 0;
      this.forwarding = false;
    }
  }

  private forward(from: SwitchPort, frame: Uint8Array): void {
    this.stats.frames++;
    const t = now();
    if (!isGroupMac(frame, 6)) {
      const src = macKey(frame, 6);
      const e = this.table.get(src);
      if (e === undefined) this.table.set(src, { port: from, seen: t });
      else {
        e.port = from;
        e.seen = t;
      }
    }
    if (!isGroupMac(frame, 0)) {
      const e = this.table.get(macKey(frame, 0));
      if (e !== undefined && t - e.seen < AGEING_NS && this.ports.includes(e.port)) {
        if (e.port === from) this.stats.filtered++;
        else {
          this.stats.unicast++;
          e.port.egress(frame);
        }
        return;
      }
    }
    this.stats.flooded++;
    // A copy of the list: a receiver may detach a port meanwhile.
    for (const p of this.ports.slice()) if (p !== from) p.egress(frame);
  }
}

function macKey(b: Uint8Array, at: number): number {
  return ((b[at] << 8) | b[at + 1]) * 0x1_0000_0000 + (((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0);
}

function macBytes(key: number): Uint8Array {
  const hi = Math.floor(key / 0x1_0000_0000);
  const lo = key >>> 0;
  return Uint8Array.of(hi >> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

function now(): number {
  return Number(process.hrtime.bigint());
}
