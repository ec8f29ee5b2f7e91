import { type DmaHeap, KernelError } from '@uk/hal';
import {
  AVAIL_F_NO_INTERRUPT,
  AvailField,
  availEntryOffset,
  availEventOffset,
  DESC_SIZE,
  DescFlag,
  isValidQueueSize,
  needEvent,
  splitRingLayout,
  USED_F_NO_NOTIFY,
  UsedField,
  usedEntryOffset,
  usedEventOffset,
  writeDesc,
} from '@uk/virtio-spec';
import type { RamWindow } from '../memory/ram-window.js';
import { IndirectPool } from './indirect-pool.js';

export interface SplitQueueOptions {
  /** RING_EVENT_IDX was negotiated: suppress notifications and interrupts by index. */
  eventIdx: boolean;
  /** RING_INDIRECT_DESC was negotiated: a request of several buffers takes one ring slot. */
  indirect: boolean;
}

/**
 * The driver's side of a split virtqueue (virtio 1.2 §2.7). Ring memory comes from the DMA
 * heap; the descriptor free list, the owner of each chain and the indexes are kept in private
 * arrays (shadows), so nothing the device writes can corrupt the driver's bookkeeping.
 *
 * Submitting is allocation-free: `push` segments into a scratch list, then `add(token)`.
 * Completions come back through `drain(handler)` with the token and the length the device
 * wrote.
 */
export class SplitQueue<T> {
  readonly size: number;
  readonly descPa: number;
  readonly availPa: number;
  readonly usedPa: number;
  /** A device broke the ring protocol (returned an unknown id); the driver should reset it. */
  broken = false;

  private readonly ram: RamWindow;
  private readonly view: DataView;
  private readonly u16: Uint16Array;
  private readonly descOff: number;
  private readonly availOff: number;
  private readonly usedOff: number;
  private readonly availIdxI: number;
  private readonly availFlagsI: number;
  private readonly usedIdxI: number;
  private readonly usedFlagsI: number;
  private readonly usedEventI: number;
  private readonly availEventI: number;
  private readonly mask: number;
  private readonly blockOff: number;
  private readonly blockBytes: number;

  private readonly nextFree: Uint16Array;
  private freeHead = 0;
  private numFreeDescs: number;
  private readonly tokens: Array<T | undefined>;
  private readonly chainDescs: Uint16Array;
  private readonly indirectPa: Float64Array;
  private readonly indirectLen: Uint16Array;
  private readonly pool: IndirectPool;
  private outstanding = 0;

  private availIdx = 0;
  private lastUsed = 0;
  private kickedIdx = 0;

  private readonly segAddr: Float64Array;
  private readonly segLen: Uint32Array;
  private readonly segWrite: Uint8Array;
  private nseg = 0;

  constructor(
    ram: RamWindow,
    private readonly dma: DmaHeap,
    readonly index: number,
    size: number,
    readonly options: SplitQueueOptions,
  ) {
    if (!isValidQueueSize(size)) throw new KernelError('EINVAL', `virtqueue size ${size} must be a power of two from 1 to 32768`);
    this.size = size;
    this.mask = size - 1;
    this.ram = ram;
    this.view = ram.view;
    this.u16 = ram.u16;
    const layout = splitRingLayout(size);
    const block = dma.alloc(layout.bytes, 4096);
    const off = ram.offset(block, layout.bytes);
    this.blockOff = off;
    this.blockBytes = layout.bytes;
    this.descPa = block + layout.desc;
    this.availPa = block + layout.avail;
    this.usedPa = block + layout.used;
    this.descOff = off + layout.desc;
    this.availOff = off + layout.avail;
    this.usedOff = off + layout.used;
    this.availIdxI = (this.availOff + AvailField.idx) >> 1;
    this.availFlagsI = (this.availOff + AvailField.flags) >> 1;
    this.usedIdxI = (this.usedOff + UsedField.idx) >> 1;
    this.usedFlagsI = (this.usedOff + UsedField.flags) >> 1;
    this.usedEventI = (this.availOff + usedEventOffset(size)) >> 1;
    this.availEventI = (this.usedOff + availEventOffset(size)) >> 1;

    this.nextFree = new Uint16Array(size);
    this.numFreeDescs = size;
    this.tokens = new Array<T | undefined>(size).fill(undefined);
    this.chainDescs = new Uint16Array(size);
    this.indirectPa = new Float64Array(size);
    this.indirectLen = new Uint16Array(size);
    this.pool = new IndirectPool(dma);
    this.segAddr = new Float64Array(size);
    this.segLen = new Uint32Array(size);
    this.segWrite = new Uint8Array(size);
    this.resetState();
  }

  /** Back to the state of a new queue (after a device reset): every descriptor free, indexes 0. */
  resetState(): void {
    for (let i = 0; i < this.size; i++) this.nextFree[i] = (i + 1) & 0xffff;
    this.freeHead = 0;
    this.numFreeDescs = this.size;
    this.tokens.fill(undefined);
    for (let i = 0; i < this.size; i++) {
      if (this.indirectLen[i] !== 0) this.pool.give(this.indirectPa[i], this.indirectLen[i]);
      this.indirectLen[i] = 0;
    }
    this.outstanding = 0;
    this.availIdx = 0;
    this.lastUsed = 0;
    this.kickedIdx = 0;
    this.nseg = 0;
    this.broken = false;
    this.ram.bytes.fill(0, this.blockOff, this.blockOff + this.blockBytes);
  }

  /** Requests the device has and has not returned yet. */
  get inFlight(): number {
    return this.outstanding;
  }

  get freeDescriptors(): number {
    return this.numFreeDescs;
  }

  /** Whether a request of `segments` buffers fits now. */
  canAdd(segments: number): boolean {
    if (segments < 1 || segments > this.size) return false;
    return this.options.indirect && segments > 1 ? this.numFreeDescs >= 1 : this.numFreeDescs >= segments;
  }

  /** Starts a new request (drops any segments pushed since the last add). */
  begin(): void {
    this.nseg = 0;
  }

  /** Appends a buffer to the request being built; device-writable ones must come last. */
  push(pa: number, len: number, writable: boolean): void {
    if (this.nseg >= this.size) throw new KernelError('EINVAL', `a request may have at most ${this.size} buffers on this queue`);
    const n = this.nseg++;
    this.segAddr[n] = pa;
    this.segLen[n] = len;
    this.segWrite[n] = writable ? 1 : 0;
  }

  /**
   * Makes the request visible to the device; `token` comes back from `drain`. Returns the head
   * descriptor, or -1 when the ring has no room (nothing is changed then; retry after a drain).
   */
  add(token: T): number {
    const n = this.nseg;
    if (n === 0) throw new KernelError('EINVAL', 'a virtqueue request needs at least one buffer');
    if (!this.canAdd(n)) return -1;
    const v = this.view;
    let head: number;
    if (this.options.indirect && n > 1) {
      const table = this.pool.take(n);
      const toff = this.ram.offset(table, n * DESC_SIZE);
      for (let i = 0; i < n; i++) {
        const flags = (i + 1 < n ? DescFlag.Next : 0) | (this.segWrite[i] ? DescFlag.Write : 0);
        writeDesc(v, toff + i * DESC_SIZE, this.segAddr[i], this.segLen[i], flags, i + 1 < n ? i + 1 : 0);
      }
      head = this.freeHead;
      this.freeHead = this.nextFree[head];
      this.numFreeDescs--;
      writeDesc(v, this.descOff + head * DESC_SIZE, table, n * DESC_SIZE, DescFlag.Indirect, 0);
      this.chainDescs[head] = 1;
      this.indirectPa[head] = table;
      this.indirectLen[head] = n;
    } else {
      head = this.freeHead;
      let i = head;
      for (let k = 0; k < n; k++) {
        const last = k + 1 === n;
        const next = this.nextFree[i];
        const flags = (last ? 0 : DescFlag.Next) | (this.segWrite[k] ? DescFlag.Write : 0);
        writeDesc(v, this.descOff + i * DESC_SIZE, this.segAddr[k], this.segLen[k], flags, last ? 0 : next);
        i = next;
      }
      this.freeHead = i;
      this.numFreeDescs -= n;
      this.chainDescs[head] = n;
      this.indirectLen[head] = 0;
    }
    this.tokens[head] = token;
    this.outstanding++;
    this.nseg = 0;
    v.setUint16(this.availOff + availEntryOffset(this.availIdx & this.mask), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    // Publishes the entry (and the descriptors before it) to the device.
    Atomics.store(this.u16, this.availIdxI, this.availIdx);
    return head;
  }

  /**
   * Whether the device wants to hear about the requests added since the last call (§2.7.10):
   * by avail_event with RING_EVENT_IDX, else by the used ring's NO_NOTIFY flag.
   */
  kickNeeded(): boolean {
    const now = this.availIdx;
    const old = this.kickedIdx;
    this.kickedIdx = now;
    if (now === old) return false;
    if (this.options.eventIdx) return needEvent(Atomics.load(this.u16, this.availEventI), now, old);
    return (Atomics.load(this.u16, this.usedFlagsI) & USED_F_NO_NOTIFY) === 0;
  }

  /** Whether the device has returned requests that `drain` has not handed out yet. */
  hasUsed(): boolean {
    return Atomics.load(this.u16, this.usedIdxI) !== this.lastUsed;
  }

  /**
   * Hands every returned request to `handler(token, bytesWritten)` and frees its
   * descriptors. Returns how many there were. Entries that name no outstanding request mark
   * the queue broken and are skipped.
   */
  drain(handler: (token: T, len: number) => void): number {
    const used = Atomics.load(this.u16, this.usedIdxI);
    if (((used - this.lastUsed) & 0xffff) > this.outstanding) {
      // More entries than requests out: the index is garbage; trust none of them.
      this.broken = true;
      this.lastUsed = used;
      return 0;
    }
    let n = 0;
    const v = this.view;
    while (this.lastUsed !== used && this.outstanding > 0) {
      const at = this.usedOff + usedEntryOffset(this.lastUsed & this.mask);
      const id = v.getUint32(at, true);
      const len = v.getUint32(at + 4, true);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
      if (id >= this.size || this.tokens[id] === undefined) {
        this.broken = true;
        continue;
      }
      const token = this.tokens[id] as T;
      this.release(id);
      n++;
      handler(token, len);
    }
    if (this.lastUsed !== used) {
      // Entries for requests that were never outstanding: skip them, the device is broken.
      this.broken = true;
      this.lastUsed = used;
    }
    return n;
  }

  private release(head: number): void {
    this.tokens[head] = undefined;
    this.outstanding--;
    const n = this.chainDescs[head];
    if (this.indirectLen[head] !== 0) {
      this.pool.give(this.indirectPa[head], this.indirectLen[head]);
      this.indirectLen[head] = 0;
    }
    let tail = head;
    for (let k = 1; k < n; k++) tail = this.nextFree[tail];
    this.nextFree[tail] = this.freeHead;
    this.freeHead = head;
    this.numFreeDescs += n;
  }

  /**
   * What an interrupt handler does: drains, asks for the next interrupt, and drains again
   * whatever came back in between, until nothing has. Returns how many requests it handed out.
   */
  drainAll(handler: (token: T, len: number) => void): number {
    let n = 0;
    do n += this.drain(handler);
    while (this.enableInterrupts());
    return n;
  }

  /**
   * Asks for an interrupt at the next returned request. Returns true if requests came back
   * meanwhile: drain again, or one may be missed (the classic race closed by re-checking).
   */
  enableInterrupts(): boolean {
    if (this.options.eventIdx) Atomics.store(this.u16, this.usedEventI, this.lastUsed);
    else Atomics.store(this.u16, this.availFlagsI, 0);
    return this.hasUsed();
  }

  /** Asks the device not to interrupt (a hint; with RING_EVENT_IDX the event index simply stays behind). */
  disableInterrupts(): void {
    if (!this.options.eventIdx) Atomics.store(this.u16, this.availFlagsI, AVAIL_F_NO_INTERRUPT);
  }

  /** Every outstanding token, forgotten (after a reset the device will never return them). */
  takeOutstanding(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) {
      const t = this.tokens[i];
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /** Frees the ring and pooled tables; the queue must be disabled in the device first. */
  destroy(): void {
    this.resetState();
    this.pool.release();
    this.dma.free(this.descPa);
  }
}
