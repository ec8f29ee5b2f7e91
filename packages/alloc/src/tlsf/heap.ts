/**
 * A TLSF heap (Two-Level Segregated Fit, Masmano et al. 2004) over physical addresses:
 * allocate, free, aligned allocate and reallocate in bounded time — two bitmap look-ups find
 * a free block, freeing merges with at most two neighbours. Block headers live in a
 * {@link BlockTable}, not in the managed memory, and a typed-array hash maps an allocation's
 * address to its block, so there is no header in front of the bytes handed out and the
 * smallest block is one 16-byte granule.
 *
 * The heap manages pools: ranges handed to {@link TlsfHeap.addPool}, or taken from a
 * {@link FrameAllocator} whenever an allocation does not fit (the heap grows). {@link TlsfHeap.trim}
 * gives wholly free pools back to the frame allocator.
 */
import type { DmaHeap, FrameAllocator, MemoryRegion } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { ADDRESS_LIMIT, alignUp, formatBytes, hex, highestBit, lowestBit, PAGE_SIZE } from '../bits.js';
import { checkAddress, checkAlign, checkSize, doubleFree, foreignAddress, misalignedAddress, notAllocationStart, outOfMemory, wrongSize } from '../errors.js';
import { normalizeRegions } from '../regions.js';
import { type AllocatorStats, fragmentationOf, type HasStats } from '../stats.js';
import { AddressMap } from '../table/address-map.js';
import { BLOCK_FREE, BLOCK_USED, BlockTable } from './block-table.js';
import { CLASS_COUNT, classAtLeast, classOf, FL_COUNT, GRANULE, SL_COUNT, SL_LOG2 } from './size-classes.js';

export { GRANULE as TLSF_GRANULE };

export interface TlsfOptions {
  /** Memory to manage from the start. */
  readonly regions?: readonly MemoryRegion[];
  /** Where to take more memory when an allocation does not fit; without it the heap never grows. */
  readonly frames?: FrameAllocator;
  /** The smallest pool taken from `frames` at a time (default 256 KiB; rounded up to pages). */
  readonly growBytes?: number;
  /** Copies the bytes of an allocation that {@link TlsfHeap.realloc} moves (the components pass one that copies within RAM). */
  readonly move?: (from: number, to: number, bytes: number) => void;
}

export interface TlsfStats extends AllocatorStats {
  readonly pools: number;
  readonly freeBlocks: number;
}

interface Pool {
  readonly base: number;
  readonly size: number;
  /** Block id of the pool's first block; it never changes, since nothing merges into it from below. */
  readonly first: number;
  readonly fromFrames: boolean;
}

export class TlsfHeap implements DmaHeap, HasStats {
  private readonly blocks = new BlockTable();
  private readonly live = new AddressMap();
  /** Head block id of each class's free list, -1 when empty. */
  private readonly heads = new Int32Array(CLASS_COUNT).fill(-1);
  /** Per first-level class: bit sl set ⇔ list (fl, sl) not empty. */
  private readonly slBitmap = new Int32Array(FL_COUNT);
  /** First-level bitmap, split in two words because there are more than 32 classes. */
  private flLow = 0;
  private flHigh = 0;
  private readonly pools: Pool[] = [];
  private readonly frames: FrameAllocator | undefined;
  private readonly growBytes: number;
  private readonly move: ((from: number, to: number, bytes: number) => void) | undefined;
  private total = 0;
  private used = 0;
  private liveCount = 0;
  private freeCount = 0;

  constructor(options: TlsfOptions = {}) {
    this.frames = options.frames;
    this.growBytes = alignUp(options.growBytes ?? 256 * 1024, PAGE_SIZE);
    this.move = options.move;
    for (const r of normalizeRegions(options.regions ?? [], GRANULE)) this.addPool(r.base, r.size);
  }

  get totalBytes(): number {
    return this.total;
  }

  get usedBytes(): number {
    return this.used;
  }

  get freeBytes(): number {
    return this.total - this.used;
  }

  /**
   * Adds [base, base + bytes) to the heap, trimmed inward to 16-byte granules. It must not
   * overlap a pool the heap already has.
   */
  addPool(base: number, bytes: number): void {
    this.addPoolFrom(base, bytes, false);
  }

  /** Allocates `bytes` (rounded up to 16) aligned to `align` (a power of two; 16 at least). */
  alloc(bytes: number, align: number = GRANULE): number {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) checkSize(bytes, 'alloc');
    if (align !== GRANULE) {
      checkAlign(align, 'alloc');
      if (align < GRANULE) align = GRANULE;
    }
    const size = bytes < 0x7fff_fff0 ? (bytes + GRANULE - 1) & ~(GRANULE - 1) : alignUp(bytes, GRANULE);
    let id = this.take(size, align);
    if (id < 0 && this.grow(size, align)) id = this.take(size, align);
    if (id < 0) throw outOfMemory('alloc', bytes, align, this.freeBytes, this.largestFreeBlock);
    return this.blocks.addr[id];
  }

  /**
   * Frees the allocation at `addr`. With `bytes`, also checks that it is the size that was
   * allocated (after rounding up to 16). A double free, an address no allocation starts
   * at, or an address outside the heap throws and changes nothing.
   */
  free(addr: number, bytes?: number): void {
    // One probe: take the entry out first, put it back if the size check fails.
    const id = Number.isSafeInteger(addr) ? this.live.delete(addr) : -1;
    if (id < 0) throw this.explainBadFree('free', addr);
    const size = this.blocks.size[id];
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes <= 0 || alignUp(bytes, GRANULE) !== size)) {
      this.live.set(addr, id);
      throw wrongSize('free', addr, size, bytes);
    }
    this.used -= size;
    this.liveCount--;
    this.release(id);
  }

  /**
   * Resizes the allocation at `addr` to `bytes`, in place when it shrinks or the next block
   * is free and large enough; otherwise allocates anew (aligned to `align`), has the `move`
   * option copy the old contents and frees the old block. Returns the (possibly new)
   * address. On ENOMEM the old allocation is left as it was.
   */
  realloc(addr: number, bytes: number, align: number = GRANULE): number {
    checkSize(bytes, 'realloc');
    const id = Number.isSafeInteger(addr) ? this.live.get(addr) : -1;
    if (id < 0) throw this.explainBadFree('realloc', addr);
    const b = this.blocks;
    const oldSize = b.size[id];
    const size = alignUp(bytes, GRANULE);
    if (size === oldSize) return addr;
    if (size < oldSize) {
      const tail = this.split(id, size);
      this.used -= oldSize - size;
      this.release(tail);
      return addr;
    }
    const next = b.nextPhys[id];
    if (next >= 0 && b.state[next] === BLOCK_FREE && oldSize + b.size[next] >= size) {
      this.unlinkFree(next);
      this.absorb(id, next);
      if (this.blocks.size[id] > size) this.insertFree(this.split(id, size));
      this.used += size - oldSize;
      return addr;
    }
    const moved = this.alloc(bytes, align);
    this.move?.(addr, moved, oldSize);
    this.free(addr);
    return moved;
  }

  /** Usable bytes of the allocation at `addr` (its size rounded up to 16), or 0 if none starts there. */
  sizeOf(addr: number): number {
    const id = this.live.get(addr);
    return id < 0 ? 0 : this.blocks.size[id];
  }

  /** True if `addr` lies in one of the heap's pools. */
  owns(addr: number): boolean {
    return this.poolOf(addr) !== undefined;
  }

  /** Returns every wholly free pool that came from the frame allocator; answers the bytes returned. */
  trim(): number {
    let returned = 0;
    for (let i = this.pools.length - 1; i >= 0; i--) {
      const p = this.pools[i];
      const b = this.blocks;
      if (!p.fromFrames || b.state[p.first] !== BLOCK_FREE || b.size[p.first] !== p.size) continue;
      this.unlinkFree(p.first);
      this.blocks.release(p.first);
      this.pools.splice(i, 1);
      this.total -= p.size;
      this.frames?.freeFrames(p.base, p.size);
      returned += p.size;
    }
    return returned;
  }

  /** The largest free block (scans one free list). */
  get largestFreeBlock(): number {
    let fl = highestBit(this.flHigh);
    fl = fl >= 0 ? fl + 32 : highestBit(this.flLow);
    if (fl < 0) return 0;
    const sl = highestBit(this.slBitmap[fl]);
    let best = 0;
    const b = this.blocks;
    for (let id = this.heads[fl * SL_COUNT + sl]; id >= 0; id = b.nextFree[id]) best = Math.max(best, b.size[id]);
    return best;
  }

  stats(): TlsfStats {
    const largest = this.largestFreeBlock;
    return {
      totalBytes: this.total,
      freeBytes: this.freeBytes,
      usedBytes: this.used,
      largestFreeBlock: largest,
      fragmentation: fragmentationOf(largest, this.freeBytes),
      liveAllocations: this.liveCount,
      pools: this.pools.length,
      freeBlocks: this.freeCount,
    };
  }

  /** Walks every pool and free list and checks them against each other; throws on the first inconsistency. */
  verify(): void {
    const b = this.blocks;
    let free = 0;
    let freeBlocks = 0;
    let usedBlocks = 0;
    let total = 0;
    for (const p of this.pools) {
      let at = p.base;
      let prev = -1;
      for (let id = p.first; id >= 0; id = b.nextPhys[id]) {
        if (b.addr[id] !== at) throw new Error(`pool ${hex(p.base)}: block ${id} at ${hex(b.addr[id])}, expected ${hex(at)}`);
        if (b.prevPhys[id] !== prev) throw new Error(`block ${hex(at)}: broken physical back link`);
        if (b.size[id] < GRANULE || b.size[id] % GRANULE !== 0) throw new Error(`block ${hex(at)}: bad size ${b.size[id]}`);
        if (b.state[id] === BLOCK_FREE) {
          if (prev >= 0 && b.state[prev] === BLOCK_FREE) throw new Error(`blocks ${hex(b.addr[prev])} and ${hex(at)} are both free and not merged`);
          free += b.size[id];
          freeBlocks++;
        } else if (b.state[id] === BLOCK_USED) {
          if (this.live.get(at) !== id) throw new Error(`used block ${hex(at)} is missing from the address map`);
          usedBlocks++;
        } else throw new Error(`block ${hex(at)} is in a pool but unused`);
        at += b.size[id];
        prev = id;
      }
      if (at !== p.base + p.size) throw new Error(`pool ${hex(p.base)}: blocks end at ${hex(at)}, pool at ${hex(p.base + p.size)}`);
      total += p.size;
    }
    let listed = 0;
    for (let c = 0; c < CLASS_COUNT; c++) {
      const fl = c >>> SL_LOG2;
      const bit = ((this.slBitmap[fl] >>> (c & (SL_COUNT - 1))) & 1) === 1;
      if ((this.heads[c] >= 0) !== bit) throw new Error(`class ${c}: bitmap disagrees with the list`);
      const flBit = fl < 32 ? (this.flLow >>> fl) & 1 : (this.flHigh >>> (fl - 32)) & 1;
      if ((this.slBitmap[fl] !== 0) !== (flBit === 1)) throw new Error(`first level ${fl}: bitmap disagrees`);
      let prev = -1;
      for (let id = this.heads[c]; id >= 0; id = b.nextFree[id]) {
        if (b.state[id] !== BLOCK_FREE || classOf(b.size[id]) !== c) throw new Error(`class ${c} lists block ${hex(b.addr[id])} wrongly`);
        if (b.prevFree[id] !== prev) throw new Error(`class ${c}: broken free-list back link`);
        prev = id;
        listed++;
      }
    }
    if (listed !== freeBlocks || freeBlocks !== this.freeCount) throw new Error(`${freeBlocks} free blocks in pools, ${listed} listed, ${this.freeCount} counted`);
    if (usedBlocks !== this.liveCount || this.live.size !== usedBlocks) throw new Error(`${usedBlocks} used blocks, ${this.liveCount} counted, ${this.live.size} mapped`);
    if (total !== this.total || total - free !== this.used) throw new Error(`byte counters disagree: total ${total}/${this.total}, used ${total - free}/${this.used}`);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────

  /** Finds, carves and marks a block for `size` bytes at `align`; -1 if none fits. */
  private take(size: number, align: number): number {
    const gapMax = align > GRANULE ? align - GRANULE : 0;
    let id = -1;
    if (gapMax > 0) {
      // The head of the first list that holds `size` is often aligned already (page frames
      // freed among page frames): one check saves reserving a whole alignment of slack.
      const head = this.findFree(size);
      if (head >= 0 && this.fitsAligned(head, size, align)) id = head;
    }
    if (id < 0) id = this.findFree(size + gapMax);
    if (id < 0) id = this.scanFit(size, align, size + gapMax);
    if (id < 0) return -1;
    this.unlinkFree(id);
    if (gapMax > 0) {
      const start = this.blocks.addr[id];
      const gap = alignUp(start, align) - start;
      if (gap > 0) {
        const back = this.split(id, gap);
        this.insertFree(id);
        id = back;
      }
    }
    // The block was free, so its physical neighbours are used: the tail needs no merging.
    if (this.blocks.size[id] > size) this.insertFree(this.split(id, size));
    const b = this.blocks;
    b.state[id] = BLOCK_USED;
    this.live.set(b.addr[id], id);
    this.used += size;
    this.liveCount++;
    return id;
  }

  /** Good fit in O(1): the first non-empty list whose every block holds `size` bytes. */
  private findFree(size: number): number {
    const c = classAtLeast(size);
    if (c >= CLASS_COUNT) return -1;
    let fl = c >>> SL_LOG2;
    let slMap = this.slBitmap[fl] & (-1 << (c & (SL_COUNT - 1)));
    if (slMap === 0) {
      fl = this.firstLevelFrom(fl + 1);
      if (fl < 0) return -1;
      slMap = this.slBitmap[fl];
    }
    return this.heads[(fl << SL_LOG2) + lowestBit(slMap)];
  }

  /**
   * The slow path before giving up: the lists that may hold a fitting block that the good-fit
   * search skipped (blocks just large enough, or already aligned), searched one by one.
   */
  private scanFit(size: number, align: number, searched: number): number {
    const b = this.blocks;
    const last = Math.min(classAtLeast(searched), CLASS_COUNT);
    for (let c = classOf(size); c < last; c++) {
      for (let id = this.heads[c]; id >= 0; id = b.nextFree[id]) if (this.fitsAligned(id, size, align)) return id;
    }
    return -1;
  }

  private fitsAligned(id: number, size: number, align: number): boolean {
    const start = this.blocks.addr[id];
    return alignUp(start, align) + size <= start + this.blocks.size[id];
  }

  private firstLevelFrom(fl: number): number {
    if (fl < 32) {
      const low = this.flLow & (-1 << fl);
      if (low !== 0) return lowestBit(low);
    }
    const high = this.flHigh & (-1 << (fl > 32 ? fl - 32 : 0));
    return high !== 0 ? 32 + lowestBit(high) : -1;
  }

  /** Cuts block `id` after `at` bytes; returns the new block holding the rest (state unset). */
  private split(id: number, at: number): number {
    const rest = this.blocks.acquire();
    const b = this.blocks;
    const next = b.nextPhys[id];
    b.addr[rest] = b.addr[id] + at;
    b.size[rest] = b.size[id] - at;
    b.size[id] = at;
    b.prevPhys[rest] = id;
    b.nextPhys[rest] = next;
    b.nextPhys[id] = rest;
    if (next >= 0) b.prevPhys[next] = rest;
    return rest;
  }

  /** Grows block `id` over its physical successor `next`, which disappears. */
  private absorb(id: number, next: number): void {
    const b = this.blocks;
    b.size[id] += b.size[next];
    const after = b.nextPhys[next];
    b.nextPhys[id] = after;
    if (after >= 0) b.prevPhys[after] = id;
    b.release(next);
  }

  /** Makes block `id` free, merged with free physical neighbours. */
  private release(id: number): void {
    const b = this.blocks;
    const prev = b.prevPhys[id];
    if (prev >= 0 && b.state[prev] === BLOCK_FREE) {
      this.unlinkFree(prev);
      this.absorb(prev, id);
      id = prev;
    }
    const next = b.nextPhys[id];
    if (next >= 0 && b.state[next] === BLOCK_FREE) {
      this.unlinkFree(next);
      this.absorb(id, next);
    }
    this.insertFree(id);
  }

  private insertFree(id: number): void {
    const b = this.blocks;
    const c = classOf(b.size[id]);
    const head = this.heads[c];
    b.state[id] = BLOCK_FREE;
    b.nextFree[id] = head;
    b.prevFree[id] = -1;
    if (head >= 0) b.prevFree[head] = id;
    this.heads[c] = id;
    const fl = c >>> SL_LOG2;
    this.slBitmap[fl] |= 1 << (c & (SL_COUNT - 1));
    if (fl < 32) this.flLow |= 1 << fl;
    else this.flHigh |= 1 << (fl - 32);
    this.freeCount++;
  }

  private unlinkFree(id: number): void {
    const b = this.blocks;
    const next = b.nextFree[id];
    const prev = b.prevFree[id];
    if (next >= 0) b.prevFree[next] = prev;
    if (prev >= 0) b.nextFree[prev] = next;
    else {
      const c = classOf(b.size[id]);
      this.heads[c] = next;
      if (next < 0) {
        const fl = c >>> SL_LOG2;
        const map = (this.slBitmap[fl] &= ~(1 << (c & (SL_COUNT - 1))));
        if (map === 0) {
          if (fl < 32) this.flLow &= ~(1 << fl);
          else this.flHigh &= ~(1 << (fl - 32));
        }
      }
    }
    this.freeCount--;
  }

  /** Takes a new pool from the frame allocator big enough for `size` at `align`. */
  private grow(size: number, align: number): boolean {
    const frames = this.frames;
    if (frames === undefined) return false;
    // Pools start on a page (or on `align` when larger), so the allocation needs no gap.
    const need = alignUp(size, PAGE_SIZE);
    const frameAlign = align > PAGE_SIZE ? align : PAGE_SIZE;
    for (const bytes of need < this.growBytes ? [this.growBytes, need] : [need]) {
      let base: number;
      try {
        base = frames.allocFrames(bytes, frameAlign);
      } catch (e) {
        if (e instanceof KernelError && e.code === 'ENOMEM') continue;
        throw e;
      }
      this.addPoolFrom(base, bytes, true);
      return true;
    }
    return false;
  }

  private addPoolFrom(base: number, bytes: number, fromFrames: boolean): void {
    checkAddress(base, 'addPool');
    checkSize(bytes, 'addPool');
    if (base + bytes > ADDRESS_LIMIT) throw new KernelError('EINVAL', `addPool(${hex(base)}): the pool runs past 2^53`);
    const start = alignUp(base, GRANULE);
    const end = Math.floor((base + bytes) / GRANULE) * GRANULE;
    if (end - start < GRANULE) return;
    for (const p of this.pools) {
      if (start < p.base + p.size && p.base < end) {
        throw new KernelError('EINVAL', `addPool(${hex(base)}, ${formatBytes(bytes)}): overlaps the pool at ${hex(p.base)} of ${formatBytes(p.size)}`);
      }
    }
    const id = this.blocks.acquire();
    const b = this.blocks;
    b.addr[id] = start;
    b.size[id] = end - start;
    b.prevPhys[id] = -1;
    b.nextPhys[id] = -1;
    this.insertFree(id);
    this.pools.push({ base: start, size: end - start, first: id, fromFrames });
    this.total += end - start;
  }

  private poolOf(addr: number): Pool | undefined {
    for (const p of this.pools) if (addr >= p.base && addr < p.base + p.size) return p;
    return undefined;
  }

  /** Works out why `addr` cannot be freed (the error path: a walk of one pool is fine here). */
  private explainBadFree(op: string, addr: number): KernelError {
    if (!Number.isSafeInteger(addr) || addr < 0) return new KernelError('EFAULT', `${op}: ${String(addr)} is not a physical address`);
    const pool = this.poolOf(addr);
    if (pool === undefined) return foreignAddress(op, addr, 'this TLSF heap');
    if (addr % GRANULE !== 0) return misalignedAddress(op, addr, GRANULE);
    const b = this.blocks;
    for (let id = pool.first; id >= 0; id = b.nextPhys[id]) {
      const start = b.addr[id];
      if (addr >= start + b.size[id]) continue;
      if (b.state[id] === BLOCK_FREE) return doubleFree(op, addr);
      return notAllocationStart(op, addr, `it lies inside the allocation at ${hex(start)} of ${formatBytes(b.size[id])}`);
    }
    return notAllocationStart(op, addr, 'it is not allocated');
  }
}

