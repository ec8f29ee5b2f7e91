import { type NetBuf, heapBuf } from '../buffer/net-buf.js';
import { emptyStats, type NetDevice, type NetStats } from '../device/net-device.js';

/**
 * The loopback device: what it transmits it receives. Frames are delivered in a later
 * microtask, never from inside `transmit`, so a stack sees the same re-entrancy as with a
 * real device.
 */
export class LoopbackDevice implements NetDevice {
  readonly mac = new Uint8Array(6);
  readonly linkUp = true;
  readonly offloads = { txChecksum: true, rxChecksumVerified: true };
  readonly txHeadroom = 0;
  readonly stats: NetStats = emptyStats();
  private receiver: ((frame: NetBuf) => void) | undefined;
  private pending: NetBuf[] = [];
  private scheduled = false;

  constructor(
    readonly name = 'lo',
    readonly mtu = 65_535 - 14,
  ) {}

  allocTx(length: number, headroom = 0): NetBuf {
    return heapBuf(length, headroom);
  }

  transmit(frames: readonly NetBuf[]): number {
    for (const f of frames) {
      this.stats.txPackets++;
      this.stats.txBytes += f.length;
      this.pending.push(f);
    }
    this.stats.notifications++;
    if (!this.scheduled && this.pending.length > 0) {
      this.scheduled = true;
      void Promise.resolve().then(() => this.deliver());
    }
    return frames.length;
  }

  private deliver(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const f of batch) {
      if (this.receiver === undefined) {
        this.stats.rxDropped++;
        f.release();
        continue;
      }
      this.stats.rxPackets++;
      this.stats.rxBytes += f.length;
      this.receiver(f);
    }
  }

  onTxReady(): void {
    // Loopback never runs out of transmit space.
  }

  setReceiver(handler: (frame: NetBuf) => void): void {
    this.receiver = handler;
  }

  onLinkChange(): void {
    // The loopback link is always up.
  }
}
