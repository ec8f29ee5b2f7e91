import type { Cpu } from '@uk/hal';
import {
  bufFrom,
  emptyStats,
  FrameChecksum,
  finishPartialChecksum,
  flatten,
  formatMac,
  type NetBuf,
  type NetDevice,
  type NetOffloads,
  type NetStats,
  verifyFrameChecksum,
} from '@uk/netdev';
import type { SplitQueue, VirtioMmioDevice } from '@uk/virtio';
import { NET_HDR_SIZE, NetFeature, NetHdrField, NetHdrFlag } from '@uk/virtio-spec';
import { ReceiveQueue, type RxBuf } from '../rx/receive-queue.js';
import { Submit, TransmitQueue } from '../tx/transmit-queue.js';
import { type NetDeviceConfig, readNetConfig } from './config.js';
import { type NetFeatureChoice, wantedFeatures } from './features.js';

export interface VirtioNetOptions {
  /** The interface name (eth0, ...); the component sets it. */
  name?: string;
  /** Entries to ask for in each queue (default 256, as QEMU offers; the device may offer fewer). */
  queueSize?: number;
  /** Frames handed to the receiver per poll before the driver yields the CPU (NAPI's weight; default 64). */
  budget?: number;
  /**
   * How long a poll keeps looking at an empty queue (yielding in between) before it turns
   * interrupts back on (ns; default 50 µs; 0: at once). Frames that follow closely — the
   * replies to what was just sent — then come in without an interrupt, as with Linux's
   * napi_defer_hard_irqs and gro_flush_timeout.
   */
  busyPollNs?: number;
  /** Receive buffers beyond those the ring holds, so the stack may keep frames while the ring stays full (default: as many as the ring holds). */
  extraRxBuffers?: number;
  /** The largest MTU taken from a device that offers VIRTIO_NET_F_MTU (default 9000). */
  maxMtu?: number;
  /** Offloads to refuse although the device offers them. */
  features?: NetFeatureChoice;
  /** Where the driver reports trouble (a reset, a receiver that throws). */
  log?: (line: string) => void;
}

const RX = 0;
const TX = 1;
const ETH_OVERHEAD = 14 + 4;
const MIN_MTU = 68;
const DEFAULT_MTU = 1500;

/** Driver counters beyond NetStats, for tests and benchmarks. */
export interface VirtioNetDriverStats {
  /** Poll passes (each handles up to `budget` frames). */
  polls: number;
  /** Times a poll gave the CPU up with frames still waiting (the queue was busy). */
  yields: number;
  /** Frames copied out of their DMA buffer because the receiver held so many that the ring ran low. */
  rxCopied: number;
  /** Partial checksums (NEEDS_CSUM) finished by the driver. */
  rxChecksumFinished: number;
  /** Frames dropped for a wrong TCP/UDP checksum the device had not verified. */
  rxBadChecksum: number;
  /** Frames copied into a transmit buffer (heap buffers, chains). */
  txCopied: number;
  /** Configuration-change interrupts. */
  configInterrupts: number;
  /** Device resets after DEVICE_NEEDS_RESET or a broken ring. */
  resets: number;
}

/**
 * A virtio network device (virtio 1.2 §5.1) as a NetDevice.
 *
 * Receive: buffers are posted ahead and refilled in batches; a received frame reaches the
 * receiver as a NetBuf over its DMA buffer (no copy), which goes back on the ring when the
 * receiver releases it. Interrupts are handled as Linux's NAPI does: the first one switches
 * the queue's interrupts off and starts polling; each pass hands over at most `budget`
 * frames and yields the CPU; once a pass finds the queue empty, interrupts go back on (and
 * the queue is checked once more, so that a frame that arrived meanwhile is not left behind).
 *
 * Transmit: a batch goes on the ring and the device is notified once, at the end of the
 * turn, and only if it asked to be (EVENT_IDX). Sent buffers are reclaimed lazily; transmit
 * interrupts are wanted only while a caller waits for room (`onTxReady`).
 */
export class VirtioNetDevice implements NetDevice {
  name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly offloads: NetOffloads;
  readonly txHeadroom = NET_HDR_SIZE;
  readonly stats: NetStats = emptyStats();
  readonly driverStats: VirtioNetDriverStats = {
    polls: 0,
    yields: 0,
    rxCopied: 0,
    rxChecksumFinished: 0,
    rxBadChecksum: 0,
    txCopied: 0,
    configInterrupts: 0,
    resets: 0,
  };
  readonly budget: number;
  readonly busyPollNs: number;
  readonly rx: ReceiveQueue;
  readonly tx: TransmitQueue;

  private readonly cpu: Cpu;
  private readonly rxq: SplitQueue<number>;
  private readonly txq: SplitQueue<NetBuf>;
  private readonly log: (line: string) => void;
  private readonly refillBatch: number;
  private readonly lowWater: number;
  private up: boolean;
  private receiver: ((frame: NetBuf) => void) | undefined;
  private readonly txReadyHandlers: Array<() => void> = [];
  private readonly linkHandlers: Array<(up: boolean) => void> = [];
  private polling = false;
  private kickScheduled = false;
  private refillScheduled = false;
  private txWaiting = false;
  private txReadyScheduled = false;
  private recovering = false;
  private dead = false;
  private rxErrorsSeen = 0;
  private receiverFailures = 0;
  private readonly kickNow: () => void;
  private readonly runPoll: () => Promise<void>;
  private readonly refillNow: () => void;
  private readonly fireTxReady: () => void;

  private constructor(
    readonly device: VirtioMmioDevice,
    config: NetDeviceConfig,
    options: VirtioNetOptions,
  ) {
    this.name = options.name ?? 'virtio-net';
    this.cpu = device.env.cpu;
    this.log = options.log ?? (() => {});
    this.budget = Math.max(1, options.budget ?? 64);
    this.busyPollNs = Math.max(0, options.busyPollNs ?? 50_000);
    this.up = config.linkUp;
    this.mac = config.mac ?? randomMac(this.cpu.readTime());

    // The device may send frames as large as its own MTU; we send at most ours.
    const deviceMtu = device.has(NetFeature.Mtu) && config.mtu >= MIN_MTU ? config.mtu : DEFAULT_MTU;
    this.mtu = Math.max(MIN_MTU, Math.min(deviceMtu, options.maxMtu ?? 9000));
    const mergeable = device.has(NetFeature.MrgRxbuf);
    // With mergeable buffers a large frame spans several; without, each buffer must hold the largest.
    const rxBytes = mergeable ? 2048 : Math.max(2048, align(NET_HDR_SIZE + deviceMtu + ETH_OVERHEAD, 64));
    const txBytes = Math.max(2048, align(NET_HDR_SIZE + this.mtu + ETH_OVERHEAD, 64));

    const size = options.queueSize ?? 256;
    this.rxq = device.createQueue<number>(RX, size);
    this.txq = device.createQueue<NetBuf>(TX, size);
    const rxCount = this.rxq.size + Math.max(0, options.extraRxBuffers ?? this.rxq.size);
    this.rx = new ReceiveQueue(device.ram, device.env.dma, this.rxq, rxCount, rxBytes, mergeable);
    this.tx = new TransmitQueue(device.ram, device.env.dma, this.txq, this.txq.size, txBytes, device.has(NetFeature.Csum), this.mtu + ETH_OVERHEAD);
    this.offloads = { txChecksum: device.has(NetFeature.Csum), rxChecksumVerified: device.has(NetFeature.GuestCsum) };
    this.refillBatch = Math.max(1, Math.min(this.budget, this.rxq.size) >> 1);
    this.lowWater = Math.max(1, this.rxq.size >> 2);

    this.kickNow = () => {
      this.kickScheduled = false;
      if (this.recovering || this.dead) return;
      const t = this.device.transport;
      if (this.rxq.kickNeeded()) {
        t.notify(RX);
        this.stats.notifications++;
      }
      if (this.txq.kickNeeded()) {
        t.notify(TX);
        this.stats.notifications++;
      }
    };
    this.refillNow = () => {
      this.refillScheduled = false;
      if (!this.polling) this.refill();
    };
    this.fireTxReady = () => {
      this.txReadyScheduled = false;
      for (const h of this.txReadyHandlers) h();
    };
    this.runPoll = () => this.pollLoop();
    this.rx.onFree = () => {
      // Released outside a poll: refill in a batch, or at once when the ring runs low.
      if (this.polling || this.refillScheduled) return;
      if (this.rx.freeCount >= this.refillBatch || this.rx.posted < this.lowWater) {
        this.refillScheduled = true;
        void Promise.resolve().then(this.refillNow);
      }
    };
  }

  /**
   * Initialises the device (features, configuration, queues, receive buffers, interrupt) and
   * returns it ready to send and receive.
   */
  static async start(device: VirtioMmioDevice, options: VirtioNetOptions = {}): Promise<VirtioNetDevice> {
    await device.initialize(wantedFeatures(options.features));
    const net = new VirtioNetDevice(device, readNetConfig(device), options);
    device.listen({ used: () => net.onInterrupt(), config: () => net.onConfig() });
    // Receive buffers go on the ring before DRIVER_OK, so the first frame finds them.
    net.rx.refill();
    device.driverOk();
    net.kickNow();
    return net;
  }

  get linkUp(): boolean {
    return this.up;
  }

  /** "52:54:00:12:34:56, mtu 1500, link up, csum, guest-csum, mrg-rxbuf, event-idx", for the boot log. */
  describe(): string {
    const d = this.device;
    const f: string[] = [];
    if (d.has(NetFeature.Csum)) f.push('csum');
    if (d.has(NetFeature.GuestCsum)) f.push('guest-csum');
    if (d.has(NetFeature.MrgRxbuf)) f.push('mrg-rxbuf');
    if (this.rxq.options.eventIdx) f.push('event-idx');
    return `${formatMac(this.mac)}, mtu ${this.mtu}, link ${this.up ? 'up' : 'down'}, queues ${this.rxq.size}/${this.txq.size}${f.length > 0 ? `, ${f.join(' ')}` : ''}`;
  }

  // --- NetDevice -------------------------------------------------------------------------

  allocTx(length: number, headroom = 0): NetBuf | null {
    let b = this.tx.alloc(length, headroom);
    if (b === null) {
      this.reclaimTx();
      b = this.tx.alloc(length, headroom);
      if (b === null) this.waitForTxRoom();
    }
    return b;
  }

  transmit(frames: readonly NetBuf[]): number {
    if (this.recovering || this.dead) {
      if (frames.length > 0) this.waitForTxRoom();
      return 0;
    }
    this.reclaimTx();
    const copiedBefore = this.tx.copied;
    let n = 0;
    let queued = 0;
    for (; n < frames.length; n++) {
      const f = frames[n];
      let bytes = f.length;
      for (let b = f.next; b !== null; b = b.next) bytes += b.length;
      const r = this.tx.submit(f);
      if (r === Submit.Full) break;
      if (r === Submit.Queued) {
        queued++;
        this.stats.txPackets++;
        this.stats.txBytes += bytes;
      } else this.stats.txDropped++;
    }
    this.driverStats.txCopied += this.tx.copied - copiedBefore;
    if (queued > 0) this.scheduleKick();
    if (n < frames.length) this.waitForTxRoom();
    return n;
  }

  onTxReady(handler: () => void): void {
    this.txReadyHandlers.push(handler);
  }

  setReceiver(handler: (frame: NetBuf) => void): void {
    this.receiver = handler;
  }

  onLinkChange(handler: (up: boolean) => void): void {
    this.linkHandlers.push(handler);
  }

  poll(budget = this.budget): number {
    if (this.recovering || this.dead) return 0;
    return this.pollOnce(budget);
  }

  /** Sends whatever is queued now rather than at the end of the turn (power-off). */
  flush(): void {
    if (this.kickScheduled) this.kickNow();
  }

  // --- receive -----------------------------------------------------------------------------

  private onInterrupt(): void {
    this.stats.interrupts++;
    if (this.recovering || this.dead || this.polling) return;
    this.polling = true;
    this.rxq.disableInterrupts();
    void Promise.resolve().then(this.runPoll);
  }

  /** NAPI: poll with interrupts off while there is work; yield between passes; interrupts back on when idle. */
  private async pollLoop(): Promise<void> {
    const cpu = this.cpu;
    let idleSince = -1;
    try {
      for (;;) {
        if (this.recovering || this.dead) break;
        const n = this.pollOnce(this.budget);
        if (n < this.budget && this.rx.staged === 0 && !this.rxq.hasUsed()) {
          const now = cpu.readTime();
          if (n > 0 || idleSince < 0) idleSince = now;
          if (now - idleSince >= this.busyPollNs) {
            if (!this.rxq.enableInterrupts()) break;
            // A frame came in while interrupts went back on: it would raise none; go on polling.
            this.rxq.disableInterrupts();
            continue;
          }
        } else idleSince = -1;
        this.driverStats.yields++;
        await cpu.wfi(cpu.readTime());
      }
    } catch (e) {
      this.log(`${this.name}: receive poll failed: ${e instanceof Error ? e.message : String(e)}`);
      this.rxq.enableInterrupts();
    }
    this.polling = false;
  }

  private pollOnce(budget: number): number {
    this.driverStats.polls++;
    this.reclaimTx();
    const rx = this.rx;
    rx.collect();
    if (this.rxq.broken) {
      this.recover('the device returned a receive buffer it was never given');
      return 0;
    }
    let n = 0;
    while (n < budget) {
      const f = rx.nextFrame();
      if (f === null) break;
      n++;
      this.deliver(f);
    }
    if (rx.errors !== this.rxErrorsSeen) {
      this.stats.rxErrors += rx.errors - this.rxErrorsSeen;
      this.rxErrorsSeen = rx.errors;
    }
    this.refill();
    return n;
  }

  private deliver(f: RxBuf): void {
    let frame: NetBuf = f;
    let bytes = f.length;
    for (let b = f.next; b !== null; b = b.next) bytes += b.length;
    if (this.offloads.rxChecksumVerified) {
      const h = f.store;
      const flags = h[NetHdrField.flags];
      if (flags & NetHdrFlag.NeedsCsum) {
        // A partial checksum from a sender on this host: finish it, the stack expects whole ones.
        const start = h[NetHdrField.csumStart] | (h[NetHdrField.csumStart + 1] << 8);
        const offset = h[NetHdrField.csumOffset] | (h[NetHdrField.csumOffset + 1] << 8);
        if (f.next !== null) {
          frame = bufFrom(flatten(f), 0);
          f.release();
        }
        if (!finishPartialChecksum(frame.store, frame.offset, frame.offset + frame.length, start, offset)) {
          this.stats.rxErrors++;
          frame.release();
          return;
        }
        this.driverStats.rxChecksumFinished++;
      } else if ((flags & NetHdrFlag.DataValid) === 0) {
        // The device did not vouch for it: check here, since the stack trusts rxChecksumVerified.
        const whole = f.next === null ? f : bufFrom(flatten(f), 0);
        if (verifyFrameChecksum(whole.store, whole.offset, whole.offset + whole.length) === FrameChecksum.Bad) {
          this.stats.rxErrors++;
          this.driverStats.rxBadChecksum++;
          f.release();
          return;
        }
      }
    }
    const receiver = this.receiver;
    if (receiver === undefined) {
      this.stats.rxDropped++;
      frame.release();
      return;
    }
    if (frame === f && this.rx.freeCount === 0 && this.rx.posted < this.lowWater) {
      // The receiver holds so many buffers that the ring runs dry: lend it a copy instead.
      frame = bufFrom(flatten(f), 0);
      f.release();
      this.driverStats.rxCopied++;
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += bytes;
    try {
      receiver(frame);
    } catch (e) {
      if (this.receiverFailures++ < 8) this.log(`${this.name}: the receiver threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private refill(): void {
    if (this.recovering || this.dead) return;
    if (this.rx.refill() > 0) this.scheduleKick();
  }

  // --- transmit ----------------------------------------------------------------------------

  private reclaimTx(): void {
    if (this.tx.reclaim() > 0 && this.txq.broken) {
      this.recover('the device returned a transmit buffer it was never given');
      return;
    }
    if (this.txWaiting && this.tx.hasRoom) {
      this.txWaiting = false;
      this.txq.disableInterrupts();
      if (!this.txReadyScheduled) {
        this.txReadyScheduled = true;
        void Promise.resolve().then(this.fireTxReady);
      }
    }
  }

  /** Someone waits for transmit room: ask for an interrupt when the device returns buffers. */
  private waitForTxRoom(): void {
    this.txWaiting = true;
    if (this.txq.enableInterrupts()) this.reclaimTx();
  }

  private scheduleKick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    void Promise.resolve().then(this.kickNow);
  }

  // --- configuration and recovery --------------------------------------------------------

  private onConfig(): void {
    this.driverStats.configInterrupts++;
    if (this.device.needsReset()) {
      this.recover('the device set DEVICE_NEEDS_RESET');
      return;
    }
    if (this.recovering || this.dead) return;
    const up = readNetConfig(this.device).linkUp;
    if (up === this.up) return;
    this.up = up;
    for (const h of this.linkHandlers) h(up);
  }

  /**
   * Resets the device and sets the queues up again: receive buffers on the ring come back,
   * frames in flight are lost (counted as transmit errors). Buffers the receiver holds stay
   * valid and go back on the ring when released.
   */
  private recover(reason: string): void {
    if (this.recovering || this.dead) return;
    this.recovering = true;
    this.driverStats.resets++;
    this.log(`${this.name}: ${reason}; resetting the device`);
    this.rx.forgetDevice();
    this.stats.txErrors += this.tx.forgetDevice();
    this.device.recover().then(
      () => {
        this.recovering = false;
        this.refill();
        this.rxq.enableInterrupts();
        if (this.txWaiting) this.reclaimTx();
        this.kickNow();
      },
      (e: unknown) => {
        this.dead = true;
        this.device.fail();
        this.log(`${this.name}: resetting the device failed (${e instanceof Error ? e.message : String(e)}); the interface is down`);
        if (this.up) {
          this.up = false;
          for (const h of this.linkHandlers) h(false);
        }
      },
    );
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A locally administered unicast address, for a device that has none (§5.1.5: the driver SHOULD make one up). */
function randomMac(seed: number): Uint8Array {
  let x = (Math.floor(seed) ^ 0x9e37_79b9) >>> 0;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b_3c6d) >>> 0;
    x = (x ^ (x >>> 12)) >>> 0;
    mac[i] = x & 0xff;
  }
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return mac;
}

