import { type BlockDevice, checkRange, checkTransfer, checkWritable, writeZeroesByWriting } from '@uk/blkdev';
import { KernelError } from '@uk/hal';
import { type RamWindow, RequestSlots, type SplitQueue, type VirtioMmioDevice } from '@uk/virtio';
import {
  BLK_DISCARD_SEGMENT_SIZE,
  BLK_ID_BYTES,
  BLK_REQ_HEADER_SIZE,
  BlkFeature,
  BlkRequestType,
  BlkStatus,
  featureBits,
  SECTOR_SIZE,
  writeBlkDiscardSegment,
  writeBlkRequestHeader,
} from '@uk/virtio-spec';
import { type BlkDeviceConfig, readBlkConfig } from './config.js';

export interface VirtioBlkOptions {
  /** Entries to ask for in the request queue (default 256; the device may offer fewer). */
  queueSize?: number;
  /** The most bytes one request carries (default 128 KiB); larger reads and writes become several requests in flight together. */
  maxTransfer?: number;
  /** Requests in flight at most (default: as many as the queue holds). */
  maxInFlight?: number;
}

/** Device-specific features the driver understands. */
export const BLK_DRIVER_FEATURES = featureBits(
  BlkFeature.SizeMax,
  BlkFeature.SegMax,
  BlkFeature.Ro,
  BlkFeature.BlkSize,
  BlkFeature.Flush,
  BlkFeature.Discard,
  BlkFeature.WriteZeroes,
);

/**
 * Per-request metadata in DMA memory, one record per slot:
 *   0: request header (16)   16: discard / write-zeroes segment (16)   32: status byte
 */
const META_STRIDE = 48;
const META_SEGMENT = 16;
const META_STATUS = 32;
const STATUS_PENDING = 0xff;
const DEFAULT_MAX_TRANSFER = 128 * 1024;

const opName: Record<number, string> = {
  [BlkRequestType.In]: 'read',
  [BlkRequestType.Out]: 'write',
  [BlkRequestType.Flush]: 'flush',
  [BlkRequestType.GetId]: 'get-id',
  [BlkRequestType.Discard]: 'discard',
  [BlkRequestType.WriteZeroes]: 'write-zeroes',
};

/**
 * A virtio block device as a BlockDevice. Requests occupy slots (at most `queueDepth` in
 * flight); each slot owns its header and status byte in DMA memory and, for callers whose
 * buffers are not in RAM, a bounce buffer that is kept for the next request. Completion is
 * by interrupt; a device error status becomes EIO; DEVICE_NEEDS_RESET fails what is in
 * flight with EIO and resets the device, after which requests go on.
 */
export class VirtioBlkDevice implements BlockDevice {
  /** The name it was registered under (vda, ...), for messages. */
  name = 'virtio-blk';
  readonly blockSize: number;
  blockCount: number;
  readonly readOnly: boolean;
  readonly queueDepth: number;
  readonly canDiscard: boolean;
  readonly canWriteZeroes: boolean;
  /** Whether the device has a write cache that FLUSH empties; without one every write is durable. */
  readonly hasFlush: boolean;
  /** The most bytes in one request. */
  readonly maxTransfer: number;
  readonly stats = { requests: 0, interrupts: 0, bounced: 0, resets: 0 };

  private readonly ram: RamWindow;
  private readonly queue: SplitQueue<number>;
  private readonly sectorsPerBlock: number;
  private readonly segBytes: number;
  private readonly discardMax: number;
  private readonly zeroesMax: number;

  private readonly metaPa: number;
  private readonly metaOff: number;
  private readonly bouncePa: Float64Array;
  private readonly bounceCap: Float64Array;
  private readonly targets: Array<Uint8Array | undefined>;
  private readonly kinds: Uint8Array;
  private readonly sectors: Float64Array;
  /** Who owns which slot, the parked requests, waiters for a slot, pausing while reset, the batched kick. */
  private readonly slots: RequestSlots<void>;
  private readonly onUsedEntry: (slot: number, len: number) => void;

  private constructor(
    readonly device: VirtioMmioDevice,
    config: BlkDeviceConfig,
    options: VirtioBlkOptions,
  ) {
    const dev = device;
    this.ram = dev.ram;
    const bs = config.blkSize;
    this.blockSize = bs >= SECTOR_SIZE && bs <= 65536 && (bs & (bs - 1)) === 0 ? bs : SECTOR_SIZE;
    this.sectorsPerBlock = this.blockSize / SECTOR_SIZE;
    this.blockCount = Math.floor(config.capacity / this.sectorsPerBlock);
    this.readOnly = dev.has(BlkFeature.Ro);
    this.hasFlush = dev.has(BlkFeature.Flush);
    this.canDiscard = dev.has(BlkFeature.Discard) && config.maxDiscardSectors > 0 && config.maxDiscardSeg > 0;
    this.canWriteZeroes = dev.has(BlkFeature.WriteZeroes) && config.maxWriteZeroesSectors > 0 && config.maxWriteZeroesSeg > 0;
    this.discardMax = Math.max(this.sectorsPerBlock, config.maxDiscardSectors - (config.maxDiscardSectors % this.sectorsPerBlock));
    this.zeroesMax = Math.max(this.sectorsPerBlock, config.maxWriteZeroesSectors - (config.maxWriteZeroesSectors % this.sectorsPerBlock));

    this.queue = dev.createQueue<number>(0, options.queueSize ?? 256);
    const qsize = this.queue.size;
    // A request is header + data segments + status; all must fit one chain (§2.7.5.2) and seg_max.
    const maxSegs = Math.max(1, Math.min(config.segMax > 0 ? config.segMax : qsize - 2, qsize - 2));
    this.segBytes = config.sizeMax >= this.blockSize ? config.sizeMax - (config.sizeMax % this.blockSize) : 0x8000_0000;
    const wanted = options.maxTransfer ?? DEFAULT_MAX_TRANSFER;
    const limit = Math.min(wanted, maxSegs * this.segBytes);
    this.maxTransfer = Math.max(this.blockSize, limit - (limit % this.blockSize));
    const segsPerRequest = 2 + Math.ceil(this.maxTransfer / this.segBytes);
    const fit = this.queue.options.indirect ? qsize : Math.floor(qsize / segsPerRequest);
    const slots = Math.max(1, Math.min(fit, options.maxInFlight ?? fit));
    this.queueDepth = slots;

    this.metaPa = dev.env.dma.alloc(slots * META_STRIDE, 64);
    this.metaOff = this.ram.offset(this.metaPa, slots * META_STRIDE);
    this.bouncePa = new Float64Array(slots);
    this.bounceCap = new Float64Array(slots);
    this.targets = new Array(slots).fill(undefined);
    this.kinds = new Uint8Array(slots);
    this.sectors = new Float64Array(slots);
    this.slots = new RequestSlots<void>(slots, () => this.device.kick(this.queue));
    this.onUsedEntry = (slot, len) => this.complete(slot, len);
  }

  /**
   * Initialises the device (features, configuration, queue, interrupt) and returns it ready
   * for requests.
   */
  static async start(device: VirtioMmioDevice, options: VirtioBlkOptions = {}): Promise<VirtioBlkDevice> {
    await device.initialize(BLK_DRIVER_FEATURES);
    const config = readBlkConfig(device);
    if (!Number.isFinite(config.capacity)) {
      device.fail();
      throw new KernelError('EIO', `${device.label}: capacity ${config.capacity} sectors is not a real size`);
    }
    try {
      const blk = new VirtioBlkDevice(device, config, options);
      device.listen({ used: () => blk.onUsed(), config: () => blk.onConfig() });
      device.driverOk();
      return blk;
    } catch (e) {
      device.fail();
      throw e;
    }
  }

  /** The queue (for statistics and tests). */
  get requestQueue(): SplitQueue<number> {
    return this.queue;
  }

  async read(block: number, buffer: Uint8Array): Promise<void> {
    checkTransfer(this, 'read', block, buffer.length);
    return this.transferAll(BlkRequestType.In, block, buffer);
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    checkWritable(this, 'write');
    checkTransfer(this, 'write', block, data.length);
    return this.transferAll(BlkRequestType.Out, block, data);
  }

  async flush(): Promise<void> {
    if (!this.hasFlush) return;
    const slot = await this.slots.acquire();
    this.prepare(slot, BlkRequestType.Flush, 0);
    const q = this.queue;
    q.begin();
    q.push(this.metaPa + slot * META_STRIDE, BLK_REQ_HEADER_SIZE, false);
    q.push(this.metaPa + slot * META_STRIDE + META_STATUS, 1, true);
    return this.submit(slot);
  }

  async discard(block: number, count: number): Promise<void> {
    checkWritable(this, 'discard');
    checkRange(this, 'discard', block, count);
    if (!this.canDiscard) throw new KernelError('ENOTSUP', `${this.name}: the device does not offer DISCARD`);
    return this.ranges(BlkRequestType.Discard, block, count, this.discardMax);
  }

  async writeZeroes(block: number, count: number): Promise<void> {
    checkWritable(this, 'write-zeroes');
    checkRange(this, 'write-zeroes', block, count);
    if (!this.canWriteZeroes) return writeZeroesByWriting(this, block, count, Math.max(1, this.maxTransfer / this.blockSize));
    return this.ranges(BlkRequestType.WriteZeroes, block, count, this.zeroesMax);
  }

  /** The device's serial number (VIRTIO_BLK_T_GET_ID), "" when it has none. */
  async serial(): Promise<string> {
    const slot = await this.slots.acquire();
    this.prepare(slot, BlkRequestType.GetId, 0);
    const pa = this.bounce(slot, BLK_ID_BYTES);
    const off = pa - this.ram.base;
    this.ram.bytes.fill(0, off, off + BLK_ID_BYTES);
    // Copied out on completion, before the slot (and its bounce buffer) goes to the next request.
    const id = new Uint8Array(BLK_ID_BYTES);
    this.targets[slot] = id;
    const q = this.queue;
    q.begin();
    q.push(this.metaPa + slot * META_STRIDE, BLK_REQ_HEADER_SIZE, false);
    q.push(pa, BLK_ID_BYTES, true);
    q.push(this.metaPa + slot * META_STRIDE + META_STATUS, 1, true);
    await this.submit(slot);
    let s = '';
    for (let i = 0; i < BLK_ID_BYTES && id[i] !== 0; i++) s += String.fromCharCode(id[i]);
    return s;
  }

  /** Splits a transfer into requests of at most maxTransfer bytes, all in flight together. */
  private transferAll(type: number, block: number, buf: Uint8Array): Promise<void> {
    const len = buf.length;
    if (len === 0) return Promise.resolve();
    const sector = block * this.sectorsPerBlock;
    const max = this.maxTransfer;
    if (len <= max) return this.transfer(type, sector, buf);
    const parts: Promise<void>[] = [];
    for (let off = 0; off < len; off += max) {
      parts.push(this.transfer(type, sector + off / SECTOR_SIZE, buf.subarray(off, Math.min(len, off + max))));
    }
    return Promise.all(parts).then(() => undefined);
  }

  private async transfer(type: number, sector: number, buf: Uint8Array): Promise<void> {
    // The common case takes a slot without a promise; otherwise wait for one.
    let slot = this.slots.tryAcquire();
    if (slot < 0) slot = await this.slots.acquire();
    this.prepare(slot, type, sector);
    const len = buf.length;
    const reading = type === BlkRequestType.In;
    let pa = this.ram.physOf(buf);
    if (pa < 0) {
      pa = this.bounce(slot, len);
      this.stats.bounced++;
      if (reading) this.targets[slot] = buf;
      else this.ram.bytes.set(buf, pa - this.ram.base);
    }
    const q = this.queue;
    const meta = this.metaPa + slot * META_STRIDE;
    q.begin();
    q.push(meta, BLK_REQ_HEADER_SIZE, false);
    const seg = this.segBytes;
    for (let off = 0; off < len; off += seg) q.push(pa + off, Math.min(seg, len - off), reading);
    q.push(meta + META_STATUS, 1, true);
    return this.submit(slot);
  }

  /** DISCARD / WRITE_ZEROES: one range per request, `max` sectors at most, all in flight together. */
  private ranges(type: number, block: number, count: number, max: number): Promise<void> {
    const parts: Promise<void>[] = [];
    let sector = block * this.sectorsPerBlock;
    const end = (block + count) * this.sectorsPerBlock;
    while (sector < end) {
      const n = Math.min(max, end - sector);
      parts.push(this.range(type, sector, n));
      sector += n;
    }
    return Promise.all(parts).then(() => undefined);
  }

  private async range(type: number, sector: number, n: number): Promise<void> {
    const slot = await this.slots.acquire();
    this.prepare(slot, type, sector);
    const meta = this.metaPa + slot * META_STRIDE;
    writeBlkDiscardSegment(this.ram.view, this.metaOff + slot * META_STRIDE + META_SEGMENT, sector, n, 0);
    const q = this.queue;
    q.begin();
    q.push(meta, BLK_REQ_HEADER_SIZE, false);
    q.push(meta + META_SEGMENT, BLK_DISCARD_SEGMENT_SIZE, false);
    q.push(meta + META_STATUS, 1, true);
    return this.submit(slot);
  }

  private prepare(slot: number, type: number, sector: number): void {
    const at = this.metaOff + slot * META_STRIDE;
    writeBlkRequestHeader(this.ram.view, at, type, sector);
    this.ram.bytes[at + META_STATUS] = STATUS_PENDING;
    this.kinds[slot] = type;
    this.sectors[slot] = sector;
  }

  /** Puts the request built in the queue's scratch list on the ring; settles on completion. */
  private submit(slot: number): Promise<void> {
    if (this.queue.add(slot) < 0) {
      // Cannot happen: slots are sized to what the ring holds. Keep the slot sane anyway.
      this.release(slot);
      return Promise.reject(new KernelError('EAGAIN', `${this.name}: the request queue is full`));
    }
    this.stats.requests++;
    // One notification for everything submitted in this turn.
    this.slots.scheduleKick();
    return this.slots.completion(slot);
  }

  /** Gives the slot to the next request (a waiting one first). */
  private release(slot: number): void {
    this.targets[slot] = undefined;
    this.slots.release(slot);
  }

  /** A slot's bounce buffer, grown to at least `len` bytes. */
  private bounce(slot: number, len: number): number {
    if (this.bounceCap[slot] < len) {
      if (this.bounceCap[slot] > 0) this.device.env.dma.free(this.bouncePa[slot]);
      this.bounceCap[slot] = 0;
      const cap = Math.ceil(len / 4096) * 4096;
      this.bouncePa[slot] = this.device.env.dma.alloc(cap, 64);
      this.bounceCap[slot] = cap;
    }
    return this.bouncePa[slot];
  }

  private complete(slot: number, _len: number): void {
    const status = this.ram.bytes[this.metaOff + slot * META_STRIDE + META_STATUS];
    const target = this.targets[slot];
    // The slot goes to its next owner before this request settles (that owner's acquire
    // returns a microtask later, so the request parked here is still the one settled).
    if (status === BlkStatus.Ok) {
      if (target !== undefined) {
        const off = this.bouncePa[slot] - this.ram.base;
        target.set(this.ram.bytes.subarray(off, off + target.length));
      }
      this.release(slot);
      this.slots.complete(slot, undefined);
      return;
    }
    const op = opName[this.kinds[slot]] ?? `request type ${this.kinds[slot]}`;
    const what = status === BlkStatus.Unsupp ? 'the device does not support it' : status === BlkStatus.IoErr ? 'the device reported an I/O error' : `the device answered status ${status}`;
    const err = new KernelError('EIO', `${this.name}: ${op} at sector ${this.sectors[slot]} failed: ${what}`);
    this.release(slot);
    this.slots.fail(slot, err);
  }

  private onUsed(): void {
    this.stats.interrupts++;
    if (this.slots.paused || this.slots.dead !== undefined) return;
    const q = this.queue;
    q.drainAll(this.onUsedEntry);
    if (q.broken) this.recover('the device returned a request it was never given');
  }

  private onConfig(): void {
    if (this.device.needsReset()) {
      this.recover('the device set DEVICE_NEEDS_RESET');
      return;
    }
    // A resize: the capacity may have changed.
    const c = readBlkConfig(this.device);
    if (Number.isFinite(c.capacity)) this.blockCount = Math.floor(c.capacity / this.sectorsPerBlock);
  }

  /**
   * Fails every request in flight with EIO, resets the device and sets the queue up again;
   * requests that wait meanwhile go on afterwards. If the reset fails, the device is dead and
   * every request fails.
   */
  private recover(reason: string): void {
    const slots = this.slots;
    if (slots.paused || slots.dead !== undefined) return;
    slots.pause();
    this.stats.resets++;
    const lost = this.queue.takeOutstanding();
    for (const slot of lost) {
      this.targets[slot] = undefined;
      slots.fail(slot, new KernelError('EIO', `${this.name}: ${opName[this.kinds[slot]] ?? 'request'} at sector ${this.sectors[slot]} failed: ${reason}; the device was reset`));
    }
    this.device.recover().then(
      () => {
        // The lost slots are free again only now that the device cannot touch their buffers;
        // released in reverse, the first waiter gets the first of them.
        for (let i = lost.length - 1; i >= 0; i--) this.release(lost[i]);
        slots.resume();
      },
      (e: unknown) => {
        slots.failAll(new KernelError('EIO', `${this.name}: ${reason}, and resetting it failed (${e instanceof Error ? e.message : String(e)}); the disk is gone`));
        this.device.fail();
      },
    );
  }
}
