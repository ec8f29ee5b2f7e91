import { bufFrom, emptyStats, heapBuf, type NetBuf, type NetDevice, type NetStats } from '@uk/netdev';

/**
 * A NetDevice for packet-level tests: what the stack transmits is recorded (as copies, in
 * order) and frames are injected by hand. It counts buffers handed out and given back, so a
 * test can check that nothing leaks.
 */
export class CaptureDevice implements NetDevice {
  readonly stats: NetStats = emptyStats();
  readonly sent: Uint8Array[] = [];
  linkUp = true;
  offloads = { txChecksum: false, rxChecksumVerified: false };
  txHeadroom = 0;
  /** Injected frames not yet released by the stack. */
  rxOutstanding = 0;
  /** Transmit buffers allocated and not yet transmitted or released. */
  txOutstanding = 0;
  /** When set, allocTx fails (back-pressure tests). */
  txExhausted = false;
  /** Frames transmit() accepts per call (Infinity: all). */
  txRoom = Number.POSITIVE_INFINITY;
  #receiver: ((f: NetBuf) => void) | undefined;
  #txReady: (() => void) | undefined;

  constructor(
    readonly name = 'eth0',
    readonly mac: Uint8Array = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56),
    readonly mtu = 1500,
  ) {}

  allocTx(length: number, headroom = 0): NetBuf | null {
    if (this.txExhausted) return null;
    const b = heapBuf(length, this.txHeadroom + headroom);
    this.txOutstanding++;
    let released = false;
    return {
      get store() {
        return b.store;
      },
      get offset() {
        return b.offset;
      },
      set offset(v: number) {
        b.offset = v;
      },
      get length() {
        return b.length;
      },
      set length(v: number) {
        b.length = v;
      },
      next: null,
      phys: -1,
      release: () => {
        if (released) throw new Error('a transmit buffer was released twice');
        released = true;
        this.txOutstanding--;
      },
    };
  }

  transmit(frames: readonly NetBuf[]): number {
    const n = Math.min(frames.length, this.txRoom);
    for (let i = 0; i < n; i++) {
      const f = frames[i];
      const bytes = f.store.slice(f.offset, f.offset + f.length);
      this.sent.push(bytes);
      this.stats.txPackets++;
      this.stats.txBytes += bytes.length;
      f.release();
    }
    this.stats.notifications++;
    return n;
  }

  onTxReady(handler: () => void): void {
    this.#txReady = handler;
  }

  /** Makes room again and tells the stack. */
  txReady(room = Number.POSITIVE_INFINITY): void {
    this.txRoom = room;
    this.#txReady?.();
  }

  setReceiver(handler: (frame: NetBuf) => void): void {
    this.#receiver = handler;
  }

  onLinkChange(): void {}

  /** Hands `bytes` to the stack as a received frame (a copy, in a buffer with no headroom). */
  inject(bytes: Uint8Array): void {
    const b = bufFrom(bytes, 0);
    let released = false;
    this.rxOutstanding++;
    b.release = () => {
      if (released) throw new Error('a received buffer was released twice');
      released = true;
      this.rxOutstanding--;
    };
    this.stats.rxPackets++;
    this.#receiver?.(b);
  }

  /** Takes (and clears) what was sent so far. */
  take(): Uint8Array[] {
    return this.sent.splice(0, this.sent.length);
  }
}
