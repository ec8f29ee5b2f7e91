import { type DmaHeap, KernelError } from '@uk/hal';
import { finishPartialChecksum, type NetBuf } from '@uk/netdev';
import type { RamWindow, SplitQueue } from '@uk/virtio';
import { NET_HDR_SIZE, NetHdrField, NetHdrFlag } from '@uk/virtio-spec';

const FREE = 0;
/** Handed out by allocTx; the caller fills it. */
const ALLOCATED = 1;
/** On the ring until the device returns it. */
const IN_FLIGHT = 2;

/** Smallest frame: an Ethernet header. */
const MIN_FRAME = 14;

/** What `submit` did with a frame. */
export const Submit = {
  /** On the ring. */
  Queued: 0,
  /** No room (ring or buffers): not taken, the caller keeps it. */
  Full: 1,
  /** Taken and thrown away (too short or too long): counted, released. */
  Dropped: 2,
} as const;

/**
 * A transmit buffer from the device's pool: DMA memory with room for the virtio-net header in
 * front of the frame, so a frame built in it goes to the device as one descriptor, without a
 * copy.
 */
export class TxBuf implements NetBuf {
  offset = 0;
  length = 0;
  next: NetBuf | null = null;
  csumStart = -1;
  csumOffset = 0;

  constructor(
    readonly store: Uint8Array,
    readonly phys: number,
    readonly index: number,
    readonly owner: TransmitQueue,
  ) {}

  /** Gives back a buffer that was not handed to transmit. */
  release(): void {
    this.owner.releaseUnsent(this);
  }
}

/**
 * The transmit side of a virtio-net device: the header in front of each frame, a pool of DMA
 * buffers (one per ring entry) that `allocTx` lends out, and the ring. A frame in one of the
 * pool's buffers, or in any other buffer of guest RAM with room for the header in front,
 * goes out as it is; anything else (heap buffers, chains) is copied into a pool buffer first.
 * Returned entries are reclaimed lazily, when transmitting or polling.
 */
export class TransmitQueue {
  readonly bufs: TxBuf[];
  /** Frames copied into a pool buffer because they were not in DMA memory or were chained. */
  copied = 0;
  /** Frames thrown away as too short or too long. */
  dropped = 0;
  /** Frames handed to the device and not returned yet. */
  inFlight = 0;

  private readonly state: Uint8Array;
  private readonly free: Uint32Array;
  private nFree = 0;
  private readonly view: DataView;
  private readonly done: (buf: NetBuf) => void;

  constructor(
    private readonly ram: RamWindow,
    dma: DmaHeap,
    readonly queue: SplitQueue<NetBuf>,
    readonly count: number,
    readonly bufBytes: number,
    /** The device completes partial checksums (VIRTIO_NET_F_CSUM); otherwise the driver does. */
    readonly csumOffload: boolean,
    /** The largest frame the link carries (MTU + Ethernet header + one VLAN tag). */
    readonly maxFrame: number,
  ) {
    const base = dma.alloc(count * bufBytes, 4096);
    const off = ram.offset(base, count * bufBytes);
    this.bufs = [];
    for (let i = 0; i < count; i++) {
      const at = off + i * bufBytes;
      this.bufs.push(new TxBuf(ram.bytes.subarray(at, at + bufBytes), base + i * bufBytes, i, this));
    }
    this.state = new Uint8Array(count);
    this.free = new Uint32Array(count);
    for (let i = count - 1; i >= 0; i--) this.free[this.nFree++] = i;
    this.view = ram.view;
    this.done = (buf) => {
      this.inFlight--;
      if (buf instanceof TxBuf && buf.owner === this) this.recycle(buf.index);
      else buf.release();
    };
  }

  /** Whether a frame can go on the ring now (a ring entry, and a pool buffer should it need a copy). */
  get hasRoom(): boolean {
    return this.queue.canAdd(1) && this.nFree > 0;
  }

  /** A pool buffer for a frame of `length` bytes with `headroom` free in front (after the virtio header); null when all are busy. */
  alloc(length: number, headroom: number): TxBuf | null {
    if (!(length >= 0 && headroom >= 0 && NET_HDR_SIZE + headroom + length <= this.bufBytes)) {
      throw new KernelError('EMSGSIZE', `a transmit buffer holds at most ${this.bufBytes - NET_HDR_SIZE} bytes (headroom included); asked for ${headroom} + ${length}`);
    }
    if (this.nFree === 0) return null;
    const b = this.bufs[this.free[--this.nFree]];
    this.state[b.index] = ALLOCATED;
    b.offset = NET_HDR_SIZE + headroom;
    b.length = length;
    b.next = null;
    b.csumStart = -1;
    b.csumOffset = 0;
    return b;
  }

  releaseUnsent(b: TxBuf): void {
    const s = this.state[b.index];
    if (s === IN_FLIGHT) throw new KernelError('EINVAL', 'a transmit buffer was released after it was handed to transmit (the driver releases it)');
    if (s !== ALLOCATED) throw new KernelError('EINVAL', `transmit buffer ${b.index} was released twice`);
    this.recycle(b.index);
  }

  private recycle(i: number): void {
    this.state[i] = FREE;
    this.free[this.nFree++] = i;
  }

  /** Puts one frame on the ring (without notifying the device); see `Submit`. */
  submit(frame: NetBuf): number {
    const q = this.queue;
    if (!q.canAdd(1)) return Submit.Full;
    const chained = frame.next !== null;
    let total = frame.length;
    if (chained) for (let b = frame.next; b !== null; b = b.next) total += b.length;
    if (total < MIN_FRAME || total > this.maxFrame) {
      this.dropped++;
      frame.release();
      return Submit.Dropped;
    }
    const csumStart = frame.csumStart ?? -1;
    const csumOffset = frame.csumOffset ?? 0;
    let out: NetBuf;
    let hdr: number;
    const ours = frame instanceof TxBuf && frame.owner === this;
    if (ours && this.state[frame.index] !== ALLOCATED) throw new KernelError('EINVAL', `transmit buffer ${frame.index} was handed to transmit twice, or after release`);
    if (!chained && frame.phys >= 0 && frame.offset >= NET_HDR_SIZE) {
      // In DMA memory with room for the header: out as it is.
      out = frame;
      hdr = this.ram.offset(frame.phys + frame.offset - NET_HDR_SIZE, NET_HDR_SIZE + total);
    } else {
      if (this.nFree === 0) return Submit.Full;
      const b = this.bufs[this.free[--this.nFree]];
      b.offset = NET_HDR_SIZE;
      b.length = total;
      b.next = null;
      let at = NET_HDR_SIZE;
      for (let c: NetBuf | null = frame; c !== null; c = c.next) {
        b.store.set(c.store.subarray(c.offset, c.offset + c.length), at);
        at += c.length;
      }
      frame.release();
      this.copied++;
      out = b;
      hdr = this.ram.offset(b.phys, NET_HDR_SIZE + total);
    }
    if (out instanceof TxBuf && out.owner === this) this.state[out.index] = IN_FLIGHT;

    const v = this.view;
    // The header: nothing asked (one buffer, no GSO), unless the checksum is left to the device.
    v.setUint32(hdr, 0, true);
    v.setUint32(hdr + 4, 0, true);
    v.setUint32(hdr + 8, 0, true);
    if (csumStart >= 0) {
      if (this.csumOffload) {
        v.setUint8(hdr + NetHdrField.flags, NetHdrFlag.NeedsCsum);
        v.setUint16(hdr + NetHdrField.csumStart, csumStart, true);
        v.setUint16(hdr + NetHdrField.csumOffset, csumOffset, true);
      } else {
        const from = hdr + NET_HDR_SIZE;
        finishPartialChecksum(this.ram.bytes, from, from + total, csumStart, csumOffset);
      }
    }
    q.begin();
    q.push(this.ram.base + hdr, NET_HDR_SIZE + total, false);
    q.add(out);
    this.inFlight++;
    return Submit.Queued;
  }

  /** Takes back what the device has sent; returns how many frames. */
  reclaim(): number {
    return this.queue.hasUsed() ? this.queue.drain(this.done) : 0;
  }

  /** After a device reset: every frame in flight is lost (returned to its owner); returns how many. */
  forgetDevice(): number {
    const lost = this.queue.takeOutstanding();
    for (const b of lost) this.done(b);
    return lost.length;
  }
}
