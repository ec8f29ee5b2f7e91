import {
  DeviceId,
  encodeNetConfig,
  featureBits,
  hasFeature,
  NET_HDR_SIZE,
  NetConfigField,
  NetFeature,
  NetGso,
  NetHdrField,
  NetHdrFlag,
  NetQueue,
  NetStatus,
} from '@uk/virtio-spec';
import type { FramePort } from '../../net/frame-port.js';
import type { VirtioBackend, VirtioDeviceHandle } from '../mmio/backend.js';
import { DescriptorChain } from '../queue/chain.js';
import type { DeviceQueue } from '../queue/device-queue.js';
import { VirtioFault } from '../queue/fault.js';
import { finishPartialChecksum, hasValidTransportChecksum } from './checksum.js';

const RX = NetQueue.Rx;
const TX = NetQueue.Tx;
/** Ethernet header and one VLAN tag on top of the MTU. */
const ETH_OVERHEAD = 18;
const MIN_FRAME = 14;
/** Transmit requests handled per turn before the host's event loop gets a go (QEMU's tx_burst). */
const TX_BURST = 256;

/** What `place` did with a frame. */
const Placed = 0;
/** No receive buffer at all: nothing taken, the frame waits. */
const NoBuffers = 1;
/** Part of the frame is in buffers taken; the rest goes when the guest adds more. */
const Stalled = 2;

export interface NetBackendOptions {
  readonly mac: Uint8Array;
  /** The MTU offered with VIRTIO_NET_F_MTU (default 1500). */
  readonly mtu?: number;
  /** Entries of each queue (default 256, as QEMU). */
  readonly queueSize?: number;
  /** Frames kept for the guest while it has no receive buffers (default 256); more are dropped. */
  readonly backlog?: number;
  /** Features to leave out, to try a driver against a plainer device. */
  readonly without?: { readonly csum?: boolean; readonly guestCsum?: boolean; readonly mrgRxbuf?: boolean; readonly mtu?: boolean; readonly status?: boolean; readonly mac?: boolean };
}

export interface NetDeviceStats {
  /** Frames the guest sent that went to the link, and bytes. */
  txFrames: number;
  txBytes: number;
  /** Frames the guest sent that were thrown away (too short or long, GSO not offered, a checksum field outside the frame). */
  txDropped: number;
  /** Frames from the link given to the guest, and bytes. */
  rxFrames: number;
  rxBytes: number;
  /** Frames from the link dropped: the guest was not ready, the link was down, or its buffers and the backlog were full. */
  rxDropped: number;
  /** Frames from the link too large for the MTU or for the guest's buffer. */
  rxTooBig: number;
  /** Notifications from the driver, per queue. */
  txNotifies: number;
  rxNotifies: number;
  /** Partial checksums finished for the guest (CSUM), received checksums verified for it (GUEST_CSUM). */
  csumFinished: number;
  csumVerified: number;
  /** Most frames waiting for receive buffers at once. */
  backlogPeak: number;
}

/**
 * The virtio-net device (virtio 1.2 §5.1), one receive and one transmit queue, between the
 * guest and a FramePort. It offers MAC, STATUS, MTU, CSUM, GUEST_CSUM and MRG_RXBUF (and the
 * transport's EVENT_IDX and INDIRECT_DESC). Transmit: each frame is copied out of guest RAM,
 * its partial checksum finished, and sent. Receive: each frame is written into the guest's
 * buffers — several of them with MRG_RXBUF — with DATA_VALID when its checksum is right;
 * while the guest has no buffers, frames wait in a bounded backlog and the device asks to be
 * notified when buffers come.
 */
export class VirtioNetBackend implements VirtioBackend {
  readonly name = 'virtio-net';
  readonly deviceId = DeviceId.Net;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly config: Uint8Array;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly stats: NetDeviceStats = {
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    rxTooBig: 0,
    txNotifies: 0,
    rxNotifies: 0,
    csumFinished: 0,
    csumVerified: 0,
    backlogPeak: 0,
  };

  private device!: VirtioDeviceHandle;
  private rxq: DeviceQueue | undefined;
  private txq: DeviceQueue | undefined;
  private active = false;
  private activeEpoch = -1;
  private mergeable = false;
  private guestCsum = false;
  private maxFrame: number;
  private link = true;
  private readonly backlog: Uint8Array[] = [];
  private readonly maxBacklog: number;
  /** The frame being written across buffers, and how far: packet bytes done, buffers used. */
  private inProgress = false;
  private partial: Uint8Array | null = null;
  private pos = 0;
  private nChains = 0;
  private readonly chains: DescriptorChain[] = [];
  private readonly lens: number[] = [];
  private readonly hdr = new Uint8Array(NET_HDR_SIZE);
  private readonly scratch: Uint8Array;
  private txScheduled = false;
  private gsoWarned = false;

  constructor(
    readonly port: FramePort,
    options: NetBackendOptions,
  ) {
    const q = options.queueSize ?? 256;
    this.queueSizes = [q, q];
    this.mac = options.mac.slice(0, 6);
    this.mtu = options.mtu ?? 1500;
    this.maxFrame = 1500 + ETH_OVERHEAD;
    this.maxBacklog = options.backlog ?? 256;
    const w = options.without ?? {};
    const bits: number[] = [];
    if (!w.mac) bits.push(NetFeature.Mac);
    if (!w.status) bits.push(NetFeature.Status);
    if (!w.mtu) bits.push(NetFeature.Mtu);
    if (!w.csum) bits.push(NetFeature.Csum);
    if (!w.guestCsum) bits.push(NetFeature.GuestCsum);
    if (!w.mrgRxbuf) bits.push(NetFeature.MrgRxbuf);
    this.features = featureBits(...bits);
    this.config = encodeNetConfig({ mac: this.mac, status: NetStatus.LinkUp, maxVirtqueuePairs: 1, mtu: this.mtu });
    this.scratch = new Uint8Array(NET_HDR_SIZE + 65_536);
    port.setReceiver((frame) => this.receive(frame));
  }

  bind(device: VirtioDeviceHandle): void {
    this.device = device;
  }

  get linkUp(): boolean {
    return this.link;
  }

  /** Frames waiting for receive buffers. */
  get waiting(): number {
    return this.backlog.length + (this.inProgress ? 1 : 0);
  }

  /** Plugs or unplugs the cable: the status field changes and the driver hears of it. */
  setLink(up: boolean): void {
    if (up === this.link) return;
    this.link = up;
    const s = this.config[NetConfigField.status] & ~NetStatus.LinkUp;
    this.config[NetConfigField.status] = s | (up ? NetStatus.LinkUp : 0);
    if (hasFeature(this.features, NetFeature.Status)) this.device?.configChanged();
  }

  activate(features: bigint): void {
    this.mergeable = hasFeature(features, NetFeature.MrgRxbuf);
    this.guestCsum = hasFeature(features, NetFeature.GuestCsum);
    this.maxFrame = (hasFeature(features, NetFeature.Mtu) ? this.mtu : 1500) + ETH_OVERHEAD;
    this.active = true;
    this.activeEpoch = this.device.epoch;
  }

  reset(): void {
    this.active = false;
    this.backlog.length = 0;
    this.inProgress = false;
    this.partial = null;
    this.pos = 0;
    this.nChains = 0;
  }

  notify(index: number, queue: DeviceQueue): void {
    if (index === RX) {
      this.rxq = queue;
      this.stats.rxNotifies++;
      this.drainBacklog();
    } else if (index === TX) {
      this.txq = queue;
      this.stats.txNotifies++;
      this.transmit(queue);
    }
  }

  private get live(): boolean {
    return this.active && this.device.epoch === this.activeEpoch;
  }

  // --- transmit: guest → link --------------------------------------------------------------

  private transmit(q: DeviceQueue): void {
    const chain = this.device.newChain(TX);
    let n = 0;
    do {
      q.disableNotifications();
      while (q.pop(chain)) {
        this.sendChain(chain);
        if (++n >= TX_BURST) {
          // Let the host's event loop (sockets, timers) run; the rest goes in the next turn.
          this.scheduleTransmit();
          return;
        }
      }
    } while (q.enableNotifications());
  }

  private scheduleTransmit(): void {
    if (this.txScheduled) return;
    this.txScheduled = true;
    const epoch = this.device.epoch;
    setImmediate(() => {
      this.txScheduled = false;
      const q = this.txq;
      if (q === undefined || !this.live || this.device.epoch !== epoch) return;
      try {
        this.transmit(q);
      } catch (e) {
        this.failed(TX, e);
      }
    });
  }

  private sendChain(chain: DescriptorChain): void {
    const n = chain.readableBytes;
    if (n < NET_HDR_SIZE) throw new VirtioFault(`transmit request ${chain.head} lacks the ${NET_HDR_SIZE}-byte virtio-net header`);
    const epoch = this.device.epoch;
    const len = n - NET_HDR_SIZE;
    if (len < MIN_FRAME || len > this.maxFrame) {
      this.stats.txDropped++;
      this.device.complete(TX, chain.head, 0, epoch);
      return;
    }
    const s = this.scratch;
    chain.gather(this.device.memory.bytes, 0, s.subarray(0, n));
    const frame = s.subarray(NET_HDR_SIZE, n);
    const flags = s[NetHdrField.flags];
    if (s[NetHdrField.gsoType] !== NetGso.None) {
      this.stats.txDropped++;
      if (!this.gsoWarned) {
        this.gsoWarned = true;
        this.device.log(`the guest sent a GSO frame (type ${s[NetHdrField.gsoType]}), which this device does not offer; dropped`);
      }
      this.device.complete(TX, chain.head, 0, epoch);
      return;
    }
    if (flags & NetHdrFlag.NeedsCsum) {
      const start = s[NetHdrField.csumStart] | (s[NetHdrField.csumStart + 1] << 8);
      const offset = s[NetHdrField.csumOffset] | (s[NetHdrField.csumOffset + 1] << 8);
      if (!finishPartialChecksum(frame, len, start, offset)) {
        this.stats.txDropped++;
        this.device.complete(TX, chain.head, 0, epoch);
        return;
      }
      this.stats.csumFinished++;
    }
    // The frame is copied out: the guest may have its buffer back before it reaches the link.
    this.device.complete(TX, chain.head, 0, epoch);
    this.stats.txFrames++;
    this.stats.txBytes += len;
    this.port.send(frame);
  }

  // --- receive: link → guest ---------------------------------------------------------------

  /** A frame from the link (lent for the call). */
  receive(frame: Uint8Array): void {
    if (!this.live || !this.link || frame.length < MIN_FRAME) {
      this.stats.rxDropped++;
      return;
    }
    if (frame.length > this.maxFrame) {
      this.stats.rxTooBig++;
      return;
    }
    if (this.inProgress || this.backlog.length > 0 || this.rxq === undefined) {
      this.enqueue(frame.slice());
      return;
    }
    try {
      const r = this.place(frame, false);
      if (r === NoBuffers) {
        this.enqueue(frame.slice());
        this.waitForBuffers();
      } else if (r === Stalled) this.waitForBuffers();
    } catch (e) {
      this.failed(RX, e);
    }
  }

  private enqueue(copy: Uint8Array): void {
    if (this.backlog.length >= this.maxBacklog) {
      this.stats.rxDropped++;
      return;
    }
    this.backlog.push(copy);
    if (this.backlog.length > this.stats.backlogPeak) this.stats.backlogPeak = this.backlog.length;
  }

  /** Out of buffers: ask the driver to notify when it adds some (and check it did not just now). */
  private waitForBuffers(): void {
    const q = this.rxq;
    if (q !== undefined && q.enableNotifications()) this.drainBacklog();
  }

  private drainBacklog(): void {
    const q = this.rxq;
    if (q === undefined || !this.live) return;
    try {
      for (;;) {
        q.disableNotifications();
        let stalled = false;
        if (this.inProgress && this.place(this.partial as Uint8Array, true) !== Placed) stalled = true;
        let k = 0;
        while (!stalled && k < this.backlog.length) {
          const r = this.place(this.backlog[k], true);
          if (r === NoBuffers) stalled = true;
          else {
            k++;
            if (r === Stalled) stalled = true;
          }
        }
        if (k > 0) this.backlog.splice(0, k);
        if (!stalled || !q.enableNotifications()) return;
      }
    } catch (e) {
      this.failed(RX, e);
    }
  }

  /**
   * Work that started outside a register access (a frame from the link, a deferred burst)
   * broke: the guest's fault or ours, the device stops with DEVICE_NEEDS_RESET rather than
   * the host with an exception.
   */
  private failed(queue: number, e: unknown): void {
    const why = e instanceof VirtioFault ? e.message : `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    this.device.fault(`queue ${queue}: ${why}`);
    this.backlog.length = 0;
    this.inProgress = false;
    this.partial = null;
  }

  /**
   * Writes the virtio-net header and `frame` into the guest's receive buffers: one buffer, or
   * with MRG_RXBUF as many as it takes (num_buffers says how many). `owned`: the frame is
   * the device's own copy and may be kept if the buffers run out halfway.
   */
  private place(frame: Uint8Array, owned: boolean): number {
    const q = this.rxq as DeviceQueue;
    const total = NET_HDR_SIZE + frame.length;
    if (!this.inProgress) {
      if (q.available() === 0) return NoBuffers;
      this.header(frame);
      this.pos = 0;
      this.nChains = 0;
      this.inProgress = true;
    }
    const epoch = this.device.epoch;
    while (this.pos < total) {
      if (q.available() === 0) {
        this.partial = owned ? frame : frame.slice();
        return Stalled;
      }
      const chain = this.chainAt(this.nChains);
      q.pop(chain);
      this.nChains++;
      const room = chain.writableBytes;
      if (room < NET_HDR_SIZE) throw new VirtioFault(`receive buffer ${chain.head} holds ${room} bytes, less than the ${NET_HDR_SIZE}-byte header`);
      if (!this.mergeable && room < total) {
        // The guest's buffer is too small for this frame: return it empty, drop the frame.
        this.device.complete(RX, chain.head, 0, epoch);
        this.stats.rxTooBig++;
        this.inProgress = false;
        this.partial = null;
        return Placed;
      }
      const n = Math.min(room, total - this.pos);
      this.fill(chain, frame, n);
      this.lens[this.nChains - 1] = n;
    }
    const first = this.chains[0];
    const ram = this.device.memory.bytes;
    ram[first.writableOffset(NetHdrField.numBuffers)] = this.nChains & 0xff;
    ram[first.writableOffset(NetHdrField.numBuffers + 1)] = this.nChains >> 8;
    for (let k = 0; k < this.nChains; k++) this.device.complete(RX, this.chains[k].head, this.lens[k], epoch);
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.inProgress = false;
    this.partial = null;
    return Placed;
  }

  private header(frame: Uint8Array): void {
    const h = this.hdr;
    h.fill(0);
    if (this.guestCsum && hasValidTransportChecksum(frame, frame.length)) {
      h[NetHdrField.flags] = NetHdrFlag.DataValid;
      this.stats.csumVerified++;
    }
    h[NetHdrField.numBuffers] = 1;
  }

  private chainAt(k: number): DescriptorChain {
    let c = this.chains[k];
    if (c === undefined) {
      c = new DescriptorChain(this.queueSizes[RX]);
      this.chains[k] = c;
    }
    return c;
  }

  /** Copies the next `n` bytes of header + frame (from `pos`) into the chain's writable buffers. */
  private fill(chain: DescriptorChain, frame: Uint8Array, n: number): void {
    const ram = this.device.memory.bytes;
    let left = n;
    for (let i = chain.readable; i < chain.count && left > 0; i++) {
      let off = chain.offset[i];
      let room = Math.min(chain.length[i], left);
      while (room > 0) {
        const p = this.pos;
        let k: number;
        if (p < NET_HDR_SIZE) {
          k = Math.min(room, NET_HDR_SIZE - p);
          ram.set(this.hdr.subarray(p, p + k), off);
        } else {
          k = room;
          ram.set(frame.subarray(p - NET_HDR_SIZE, p - NET_HDR_SIZE + k), off);
        }
        off += k;
        room -= k;
        left -= k;
        this.pos += k;
      }
    }
  }
}
