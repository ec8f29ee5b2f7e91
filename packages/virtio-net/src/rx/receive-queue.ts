import { type DmaHeap, KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import type { RamWindow, SplitQueue } from '@uk/virtio';
import { NET_HDR_SIZE, NetHdrField } from '@uk/virtio-spec';

/** Where a receive buffer is. */
const FREE = 0;
/** On the ring, the device's to fill. */
const POSTED = 1;
/** Returned by the device, not yet part of a delivered frame. */
const STAGED = 2;
/** Lent to the receiver as (part of) a frame, until it calls release(). */
const LENT = 3;

/**
 * One DMA receive buffer as the receiver sees it: a NetBuf whose store is the buffer's own
 * bytes in guest RAM, so a frame reaches the stack without a copy. Objects are made once per
 * buffer and reused for every frame that lands in it.
 */
export class RxBuf implements NetBuf {
  offset = 0;
  length = 0;
  next: NetBuf | null = null;

  constructor(
    readonly store: Uint8Array,
    readonly phys: number,
    readonly index: number,
    private readonly owner: ReceiveQueue,
  ) {}

  /** Gives the buffer and the rest of its chain back: they go on the ring again at the next refill. */
  release(): void {
    this.owner.giveBack(this);
  }
}

/**
 * The receive side of a virtio-net device: a pool of equal DMA buffers, more of them than the
 * ring holds so that the receiver may keep some while the ring stays full; posting free ones
 * ahead (`refill`, a batch at a time); taking returned ones off the used ring (`collect`) into
 * a staging list, from which `nextFrame` assembles frames — one buffer each, or with
 * VIRTIO_NET_F_MRG_RXBUF as many as the header's num_buffers says, chained.
 */
export class ReceiveQueue {
  readonly bufs: RxBuf[];
  /** Buffers on the ring now. */
  posted = 0;
  /** Buffers the receiver holds. */
  lent = 0;
  /** Entries the device returned that made no sense (too short, too long, bad num_buffers). */
  errors = 0;
  /** Called when a released buffer is free again (the device decides when to refill). */
  onFree: () => void = () => {};

  private readonly state: Uint8Array;
  private readonly free: Uint32Array;
  private nFree = 0;
  private readonly stIdx: Uint32Array;
  private readonly stLen: Uint32Array;
  private stHead = 0;
  private stCount = 0;
  private readonly basePa: number;
  private readonly stage: (index: number, len: number) => void;

  constructor(
    ram: RamWindow,
    dma: DmaHeap,
    readonly queue: SplitQueue<number>,
    readonly count: number,
    readonly bufBytes: number,
    readonly mergeable: boolean,
  ) {
    this.basePa = dma.alloc(count * bufBytes, 4096);
    const off = ram.offset(this.basePa, count * bufBytes);
    this.bufs = [];
    for (let i = 0; i < count; i++) {
      const at = off + i * bufBytes;
      this.bufs.push(new RxBuf(ram.bytes.subarray(at, at + bufBytes), this.basePa + i * bufBytes, i, this));
    }
    this.state = new Uint8Array(count);
    this.free = new Uint32Array(count);
    for (let i = count - 1; i >= 0; i--) this.free[this.nFree++] = i;
    this.stIdx = new Uint32Array(count);
    this.stLen = new Uint32Array(count);
    this.stage = (i, len) => {
      if (this.state[i] !== POSTED) {
        this.errors++;
        return;
      }
      this.state[i] = STAGED;
      this.posted--;
      const at = (this.stHead + this.stCount) % this.count;
      this.stIdx[at] = i;
      this.stLen[at] = len;
      this.stCount++;
    };
  }

  /** Free buffers, waiting to be posted. */
  get freeCount(): number {
    return this.nFree;
  }

  /** Puts free buffers on the ring while it has room; returns how many (the caller notifies the device). */
  refill(): number {
    const q = this.queue;
    let n = 0;
    while (this.nFree > 0 && q.canAdd(1)) {
      const i = this.free[--this.nFree];
      q.begin();
      q.push(this.basePa + i * this.bufBytes, this.bufBytes, true);
      if (q.add(i) < 0) {
        this.free[this.nFree++] = i;
        break;
      }
      this.state[i] = POSTED;
      this.posted++;
      n++;
    }
    return n;
  }

  /** Takes what the device returned off the used ring; returns how many buffers. */
  collect(): number {
    return this.queue.drain(this.stage);
  }

  /** Returned buffers that are not frames yet. */
  get staged(): number {
    return this.stCount;
  }

  /**
   * The next whole frame the device returned, header skipped (its bytes stay in front of
   * `offset`, at store[0..NET_HDR_SIZE)); null when none is complete yet. Entries that make
   * no sense are counted in `errors` and their buffers recycled.
   */
  nextFrame(): RxBuf | null {
    while (this.stCount > 0) {
      const i = this.stIdx[this.stHead];
      const len = this.stLen[this.stHead];
      const head = this.bufs[i];
      if (len < NET_HDR_SIZE || len > this.bufBytes) {
        this.unstage();
        this.recycle(i);
        this.errors++;
        continue;
      }
      let buffers = 1;
      if (this.mergeable) {
        buffers = head.store[NetHdrField.numBuffers] | (head.store[NetHdrField.numBuffers + 1] << 8);
        if (buffers === 0 || buffers > this.count) {
          this.unstage();
          this.recycle(i);
          this.errors++;
          continue;
        }
        // The device returns a frame's buffers together; the rest are on their way.
        if (buffers > this.stCount) return null;
      }
      this.unstage();
      this.lend(head, NET_HDR_SIZE, len - NET_HDR_SIZE);
      let tail: RxBuf = head;
      let bad = false;
      for (let k = 1; k < buffers; k++) {
        const j = this.stIdx[this.stHead];
        const l = this.stLen[this.stHead];
        this.unstage();
        const b = this.bufs[j];
        this.lend(b, 0, Math.min(l, this.bufBytes));
        if (l > this.bufBytes) bad = true;
        tail.next = b;
        tail = b;
      }
      if (bad) {
        this.errors++;
        this.giveBack(head);
        continue;
      }
      return head;
    }
    return null;
  }

  private unstage(): void {
    this.stHead = (this.stHead + 1) % this.count;
    this.stCount--;
  }

  private lend(b: RxBuf, offset: number, length: number): void {
    this.state[b.index] = LENT;
    this.lent++;
    b.offset = offset;
    b.length = length;
    b.next = null;
  }

  private recycle(i: number): void {
    this.state[i] = FREE;
    this.free[this.nFree++] = i;
  }

  /** A receiver's release(): the chain's buffers become free. */
  giveBack(head: RxBuf): void {
    for (let b: NetBuf | null = head; b !== null; ) {
      const r = b as RxBuf;
      if (this.state[r.index] !== LENT) throw new KernelError('EINVAL', `receive buffer ${r.index} was released twice (or never lent)`);
      const next = r.next;
      r.next = null;
      this.state[r.index] = FREE;
      this.lent--;
      this.free[this.nFree++] = r.index;
      b = next;
    }
    this.onFree();
  }

  /**
   * After a device reset: the buffers that were on the ring or staged are free again (the
   * device will never return them); lent ones stay lent.
   */
  forgetDevice(): void {
    for (let i = 0; i < this.count; i++) {
      if (this.state[i] === POSTED || this.state[i] === STAGED) this.recycle(i);
    }
    this.posted = 0;
    this.stHead = 0;
    this.stCount = 0;
  }
}
