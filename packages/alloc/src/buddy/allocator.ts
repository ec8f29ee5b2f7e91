/**
 * The physical frame allocator: a binary buddy system over the free RAM regions, with orders
 * from one 4 KiB page (order 0) to 1 GiB (order 18). Allocations are exact: a 12 KiB request
 * takes three pages, and the fourth page of its 16 KiB block goes straight back to the free
 * lists. Every block is aligned physically to its size, so an aligned allocation is a
 * search from a higher order, never a scan.
 */
import type { FrameAllocator, MemoryRegion } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { formatBytes, hex, lowestBit, PAGE_SIZE } from '../bits.js';
import {
  checkAddress,
  checkAlign,
  checkSize,
  doubleFree,
  foreignAddress,
  misalignedAddress,
  notAllocationStart,
  outOfMemory,
  wrongSize,
} from '../errors.js';
import { normalizeRegions } from '../regions.js';
import { type AllocatorStats, fragmentationOf, type HasStats } from '../stats.js';
import { BuddyZone, MAX_BLOCK_PAGES, MAX_ORDER, MAX_ZONE_PAGES, ORDERS } from './zone.js';

/** The largest block, and so the largest allocation and alignment: 1 GiB. */
export const BUDDY_MAX_BLOCK = MAX_BLOCK_PAGES * PAGE_SIZE;
export { MAX_ORDER as BUDDY_MAX_ORDER };

export interface BuddyStats extends AllocatorStats {
  /** Free blocks of each order; index 0 is 4 KiB, index 18 is 1 GiB. */
  readonly freeBlocksByOrder: readonly number[];
}

export class BuddyAllocator implements FrameAllocator, HasStats {
  /** @internal One zone per contiguous free region, sorted by address. */
  readonly zones: readonly BuddyZone[];
  readonly totalBytes: number;
  private freePages = 0;

  /** Regions are trimmed inward to whole pages; adjacent regions become one zone. */
  constructor(regions: readonly MemoryRegion[]) {
    const zones: BuddyZone[] = [];
    for (const r of normalizeRegions(regions, PAGE_SIZE)) {
      let pfn = r.base / PAGE_SIZE;
      let pages = r.size / PAGE_SIZE;
      while (pages > 0) {
        const n = Math.min(pages, MAX_ZONE_PAGES);
        zones.push(new BuddyZone(pfn, n));
        pfn += n;
        pages -= n;
      }
    }
    this.zones = zones;
    let total = 0;
    for (const z of zones) total += z.pages;
    this.freePages = total;
    this.totalBytes = total * PAGE_SIZE;
  }

  get freeBytes(): number {
    return this.freePages * PAGE_SIZE;
  }

  get usedBytes(): number {
    return this.totalBytes - this.freeBytes;
  }

  /** The largest block on a free list, 0 when memory is exhausted. */
  get largestFreeBlock(): number {
    let best = -1;
    for (const z of this.zones) best = Math.max(best, z.highestFreeOrder);
    return best < 0 ? 0 : (1 << best) * PAGE_SIZE;
  }

  get fragmentation(): number {
    return fragmentationOf(this.largestFreeBlock, this.freeBytes);
  }

  /**
   * Allocates `bytes` rounded up to whole pages, aligned to `align` (a power of two, at least
   * one page). Throws ENOMEM when no free block of the needed order exists.
   */
  allocFrames(bytes: number, align: number = PAGE_SIZE): number {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) checkSize(bytes, 'allocFrames');
    if (align !== PAGE_SIZE) checkAlign(align, 'allocFrames');
    const n = Math.ceil(bytes / PAGE_SIZE);
    if (n > MAX_BLOCK_PAGES || align > BUDDY_MAX_BLOCK) {
      throw new KernelError(
        'ENOMEM',
        `allocFrames: ${formatBytes(bytes)} aligned to ${formatBytes(align)} is beyond the largest buddy block (${formatBytes(BUDDY_MAX_BLOCK)}); split the request`,
      );
    }
    const alignPages = align <= PAGE_SIZE ? 1 : align / PAGE_SIZE;
    const sizeOrder = 32 - Math.clz32(n - 1);
    const alignOrder = 31 - Math.clz32(alignPages);
    const order = sizeOrder > alignOrder ? sizeOrder : alignOrder;
    const zones = this.zones;
    let zone: BuddyZone | undefined;
    if (zones.length === 1) {
      if ((zones[0].mask & (-1 << order)) !== 0) zone = zones[0];
    } else {
      // Best fit across zones: the zone whose smallest sufficient free block is smallest.
      let bestOrder = ORDERS;
      for (const z of zones) {
        const k = lowestBit(z.mask & (-1 << order));
        if (k < bestOrder) {
          bestOrder = k;
          zone = z;
          if (k === order) break;
        }
      }
    }
    if (zone === undefined) throw outOfMemory('allocFrames', bytes, align, this.freeBytes, this.largestFreeBlock);
    const ai = zone.allocate(n, order);
    this.freePages -= n;
    return (zone.basePfn + ai) * PAGE_SIZE;
  }

  /**
   * Returns an allocation. `bytes` must round up to the same number of pages as when it was
   * allocated; a double free, a free of an address no allocation starts at, of a size other
   * than the allocated one, or of memory this allocator does not manage throws and changes
   * nothing.
   */
  freeFrames(addr: number, bytes: number): void {
    if (!Number.isSafeInteger(addr) || addr < 0) checkAddress(addr, 'freeFrames');
    if (!Number.isSafeInteger(bytes) || bytes <= 0) checkSize(bytes, 'freeFrames');
    const zone = this.zoneOf(addr);
    if (zone === undefined) throw foreignAddress('freeFrames', addr, 'this buddy allocator');
    if (addr % PAGE_SIZE !== 0) throw misalignedAddress('freeFrames', addr, PAGE_SIZE);
    const ai = addr / PAGE_SIZE - zone.basePfn;
    const have = zone.allocationPages(ai);
    if (have < 0) throw this.explainBadFree(zone, ai, addr);
    const n = Math.ceil(bytes / PAGE_SIZE);
    if (have !== n) throw wrongSize('freeFrames', addr, have * PAGE_SIZE, bytes);
    zone.release(ai, n);
    this.freePages += n;
  }

  /** Bytes (whole pages) of the allocation starting at `addr`, or 0 if none starts there. */
  sizeOf(addr: number): number {
    const zone = this.zoneOf(addr);
    if (zone === undefined || addr % PAGE_SIZE !== 0) return 0;
    const have = zone.allocationPages(addr / PAGE_SIZE - zone.basePfn);
    return have < 0 ? 0 : have * PAGE_SIZE;
  }

  /** True if `addr` lies in memory this allocator manages. */
  owns(addr: number): boolean {
    return this.zoneOf(addr) !== undefined;
  }

  stats(): BuddyStats {
    const byOrder = new Array<number>(ORDERS).fill(0);
    let live = 0;
    for (const z of this.zones) {
      for (let k = 0; k < ORDERS; k++) byOrder[k] += z.counts[k];
      live += z.liveAllocations;
    }
    const free = this.freeBytes;
    const largest = this.largestFreeBlock;
    return {
      totalBytes: this.totalBytes,
      freeBytes: free,
      usedBytes: this.totalBytes - free,
      largestFreeBlock: largest,
      fragmentation: fragmentationOf(largest, free),
      liveAllocations: live,
      freeBlocksByOrder: byOrder,
    };
  }

  /** Checks every free list against the tags and counters; throws on the first inconsistency. */
  verify(): void {
    let free = 0;
    for (const z of this.zones) {
      z.verify();
      free += z.freePages;
    }
    if (free !== this.freePages) throw new Error(`zones hold ${free} free pages, the allocator counts ${this.freePages}`);
  }

  private zoneOf(addr: number): BuddyZone | undefined {
    const zones = this.zones;
    let lo = 0;
    let hi = zones.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const z = zones[mid];
      if (addr < z.baseAddress) hi = mid - 1;
      else if (addr >= z.endAddress) lo = mid + 1;
      else return z;
    }
    return undefined;
  }

  private explainBadFree(zone: BuddyZone, ai: number, addr: number): KernelError {
    if (zone.isFreePage(ai)) return doubleFree('freeFrames', addr);
    const start = zone.allocationCovering(ai);
    if (start < 0) return notAllocationStart('freeFrames', addr, 'it is not allocated');
    const startAddr = (zone.basePfn + start) * PAGE_SIZE;
    return notAllocationStart('freeFrames', addr, `it lies inside the allocation at ${hex(startAddr)} of ${formatBytes(zone.next[start] * PAGE_SIZE)}`);
  }
}

