/**
 * A pool of equal-sized objects (virtqueue buffers, packet buffers, descriptors...) carved
 * from chunks of a DMA heap or of page frames. Allocation and free are O(1): a stack of free
 * object numbers in an Int32Array. A byte per object records whether it is live, which is
 * what catches a double free.
 *
 * Chunks are a power of two of bytes and aligned to their size, so the chunk an address
 * belongs to is found by rounding the address down — no search, no per-object record.
 */
import type { DmaHeap, FrameAllocator } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { alignDown, alignUp, ceilLog2, formatBytes, hex, PAGE_SIZE } from '../bits.js';
import { checkAlign, checkSize, doubleFree, foreignAddress, misalignedAddress } from '../errors.js';
import { AddressMap } from '../table/address-map.js';

export interface PoolOptions {
  /** Bytes in one object. */
  readonly objectSize: number;
  /** Alignment of every object: a power of two, 16 by default. */
  readonly align?: number;
  /** Where chunks come from: a {@link DmaHeap} or a {@link FrameAllocator}. */
  readonly source: DmaHeap | FrameAllocator;
  /** Objects per chunk, at least (default 32); a chunk is never smaller than a page. */
  readonly objectsPerChunk?: number;
  /** Live objects at most; one more throws ENOMEM. Unlimited by default. */
  readonly maxObjects?: number;
  /** Objects to carve at construction, so that the first allocations never reach the source. */
  readonly reserve?: number;
  /** Shown in error messages (e.g. "virtio-net rx"). */
  readonly name?: string;
}

export interface PoolStats {
  readonly objectSize: number;
  /** Distance between objects: the size rounded up to the alignment. */
  readonly stride: number;
  readonly objectsPerChunk: number;
  readonly chunkBytes: number;
  readonly chunks: number;
  /** Objects carved so far. */
  readonly capacity: number;
  readonly live: number;
  /** Bytes taken from the source. */
  readonly totalBytes: number;
}

export class Pool {
  readonly objectSize: number;
  readonly stride: number;
  readonly chunkBytes: number;
  readonly objectsPerChunk: number;
  readonly name: string;
  private readonly source: DmaHeap | FrameAllocator;
  private readonly maxObjects: number;
  private readonly chunkIndex = new AddressMap(16);
  private chunkBase = new Float64Array(4);
  private chunkCount = 0;
  private liveFlag = new Uint8Array(0);
  private stack = new Int32Array(0);
  private top = 0;
  private liveCount = 0;

  constructor(options: PoolOptions) {
    const align = options.align ?? 16;
    checkSize(options.objectSize, 'Pool');
    checkAlign(align, 'Pool');
    const perChunkWanted = options.objectsPerChunk ?? 32;
    checkSize(perChunkWanted, 'Pool objectsPerChunk');
    this.objectSize = options.objectSize;
    this.stride = alignUp(options.objectSize, align);
    this.chunkBytes = 2 ** ceilLog2(Math.max(this.stride * perChunkWanted, PAGE_SIZE, align));
    this.objectsPerChunk = Math.floor(this.chunkBytes / this.stride);
    this.source = options.source;
    this.maxObjects = options.maxObjects ?? Number.POSITIVE_INFINITY;
    this.name = options.name ?? `pool of ${formatBytes(this.objectSize)} objects`;
    const reserve = Math.min(options.reserve ?? 0, this.maxObjects);
    while (this.capacity < reserve) this.addChunk();
  }

  get capacity(): number {
    return this.chunkCount * this.objectsPerChunk;
  }

  get live(): number {
    return this.liveCount;
  }

  /** Physical address of a free object; grows by a chunk when none is left. */
  alloc(): number {
    if (this.liveCount >= this.maxObjects) {
      throw new KernelError('ENOMEM', `${this.name}: all ${this.maxObjects} objects are in use; free some or raise maxObjects`);
    }
    if (this.top === 0) this.addChunk();
    const g = this.stack[--this.top];
    this.liveFlag[g] = 1;
    this.liveCount++;
    const c = (g / this.objectsPerChunk) | 0;
    return this.chunkBase[c] + (g - c * this.objectsPerChunk) * this.stride;
  }

  /** Returns the object at `addr`; a double free, a foreign or a misaligned address throws. */
  free(addr: number): void {
    const g = this.objectNumber(addr);
    if (this.liveFlag[g] === 0) throw doubleFree('Pool.free', addr);
    this.liveFlag[g] = 0;
    this.stack[this.top++] = g;
    this.liveCount--;
  }

  /** True if `addr` is an object of this pool that is allocated now. */
  isLive(addr: number): boolean {
    const base = alignDown(addr, this.chunkBytes);
    const c = Number.isSafeInteger(addr) ? this.chunkIndex.get(base) : -1;
    if (c < 0) return false;
    const i = (addr - base) / this.stride;
    return Number.isInteger(i) && i < this.objectsPerChunk && this.liveFlag[c * this.objectsPerChunk + i] === 1;
  }

  /** Gives every chunk back to the source. Throws EBUSY while objects are live. */
  destroy(): void {
    if (this.liveCount > 0) throw new KernelError('EBUSY', `${this.name}: ${this.liveCount} objects are still live; free them before destroying the pool`);
    const fromFrames = isFrameAllocator(this.source);
    for (let c = 0; c < this.chunkCount; c++) {
      const base = this.chunkBase[c];
      if (fromFrames) (this.source as FrameAllocator).freeFrames(base, this.chunkBytes);
      else (this.source as DmaHeap).free(base);
    }
    this.chunkIndex.clear();
    this.chunkCount = 0;
    this.top = 0;
  }

  stats(): PoolStats {
    return {
      objectSize: this.objectSize,
      stride: this.stride,
      objectsPerChunk: this.objectsPerChunk,
      chunkBytes: this.chunkBytes,
      chunks: this.chunkCount,
      capacity: this.capacity,
      live: this.liveCount,
      totalBytes: this.chunkCount * this.chunkBytes,
    };
  }

  private objectNumber(addr: number): number {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new KernelError('EFAULT', `Pool.free: ${String(addr)} is not a physical address`);
    const base = alignDown(addr, this.chunkBytes);
    const c = this.chunkIndex.get(base);
    if (c < 0) throw foreignAddress('Pool.free', addr, this.name);
    const offset = addr - base;
    const i = offset / this.stride;
    if (!Number.isInteger(i) || i >= this.objectsPerChunk) {
      throw misalignedAddress('Pool.free', addr, this.stride);
    }
    return c * this.objectsPerChunk + i;
  }

  private addChunk(): void {
    let base: number;
    try {
      base = isFrameAllocator(this.source)
        ? this.source.allocFrames(this.chunkBytes, this.chunkBytes)
        : this.source.alloc(this.chunkBytes, this.chunkBytes);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ENOMEM') {
        throw new KernelError('ENOMEM', `${this.name}: cannot grow by a chunk of ${formatBytes(this.chunkBytes)} (${this.liveCount} objects live): ${e.message}`);
      }
      throw e;
    }
    if (base % this.chunkBytes !== 0) {
      throw new KernelError('EINVAL', `${this.name}: the source returned chunk ${hex(base)}, not aligned to ${formatBytes(this.chunkBytes)}`);
    }
    const c = this.chunkCount++;
    if (c === this.chunkBase.length) {
      const grown = new Float64Array(c * 2);
      grown.set(this.chunkBase);
      this.chunkBase = grown;
    }
    this.chunkBase[c] = base;
    this.chunkIndex.set(base, c);
    const per = this.objectsPerChunk;
    const capacity = this.chunkCount * per;
    if (this.liveFlag.length < capacity) {
      const flags = new Uint8Array(Math.max(capacity, this.liveFlag.length * 2));
      flags.set(this.liveFlag);
      this.liveFlag = flags;
      const stack = new Int32Array(flags.length);
      stack.set(this.stack.subarray(0, this.top));
      this.stack = stack;
    }
    // Pushed last object first, so allocation hands a fresh chunk out in address order.
    for (let i = per - 1; i >= 0; i--) this.stack[this.top++] = c * per + i;
  }
}

function isFrameAllocator(source: DmaHeap | FrameAllocator): source is FrameAllocator {
  return typeof (source as FrameAllocator).allocFrames === 'function';
}
