/**
 * The region (bump) allocator, for the smallest images: a cursor per free region that only
 * moves forward. Allocation is an add and a compare; nothing is ever reused. Free does not
 * give memory back — it only checks that the range was handed out, so a stray pointer still
 * surfaces as an error. It serves as frame allocator and DMA heap at once.
 */
import type { DmaHeap, FrameAllocator, MemoryRegion } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { alignUp, formatBytes, hex, PAGE_SIZE } from '../bits.js';
import { checkAddress, checkAlign, checkSize, foreignAddress, misalignedAddress, outOfMemory } from '../errors.js';
import { normalizeRegions } from '../regions.js';
import { type AllocatorStats, fragmentationOf, type HasStats } from '../stats.js';

const GRANULE = 16;

export class RegionAllocator implements FrameAllocator, DmaHeap, HasStats {
  readonly totalBytes: number;
  private readonly base: Float64Array;
  private readonly end: Float64Array;
  /** Next free byte of each region. */
  private readonly cursor: Float64Array;
  private used = 0;
  /** Allocations handed out; free never takes them back, so they all count as live. */
  private count = 0;

  constructor(regions: readonly MemoryRegion[]) {
    const rs = normalizeRegions(regions, GRANULE);
    this.base = new Float64Array(rs.length);
    this.end = new Float64Array(rs.length);
    this.cursor = new Float64Array(rs.length);
    let total = 0;
    rs.forEach((r, i) => {
      this.base[i] = r.base;
      this.end[i] = r.base + r.size;
      this.cursor[i] = r.base;
      total += r.size;
    });
    this.totalBytes = total;
  }

  /** Bytes past the cursors, including what alignment padding will cost. */
  get freeBytes(): number {
    return this.totalBytes - this.used;
  }

  /** Bytes handed out, including alignment padding skipped over. */
  get usedBytes(): number {
    return this.used;
  }

  /** First fit over the regions: `bytes` rounded up to 16, aligned to `align` (16 at least). */
  alloc(bytes: number, align: number = GRANULE): number {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) checkSize(bytes, 'alloc');
    if (align !== GRANULE) checkAlign(align, 'alloc');
    const a = align > GRANULE ? align : GRANULE;
    const size = alignUp(bytes, GRANULE);
    for (let i = 0; i < this.cursor.length; i++) {
      const cur = this.cursor[i];
      const at = alignUp(cur, a);
      if (at + size <= this.end[i]) {
        this.cursor[i] = at + size;
        this.used += at + size - cur;
        this.count++;
        return at;
      }
    }
    throw outOfMemory('alloc', bytes, a, this.freeBytes, this.largestFreeBlock);
  }

  allocFrames(bytes: number, align: number = PAGE_SIZE): number {
    checkSize(bytes, 'allocFrames');
    checkAlign(align, 'allocFrames');
    return this.alloc(alignUp(bytes, PAGE_SIZE), align > PAGE_SIZE ? align : PAGE_SIZE);
  }

  /** A no-op that checks `addr` was handed out: memory is never reused. */
  free(addr: number): void {
    this.checkHandedOut('free', addr, 1, GRANULE);
  }

  /** A no-op that checks [addr, addr + bytes) was handed out: memory is never reused. */
  freeFrames(addr: number, bytes: number): void {
    checkSize(bytes, 'freeFrames');
    this.checkHandedOut('freeFrames', addr, bytes, PAGE_SIZE);
  }

  get largestFreeBlock(): number {
    let best = 0;
    for (let i = 0; i < this.cursor.length; i++) best = Math.max(best, this.end[i] - this.cursor[i]);
    return best;
  }

  stats(): AllocatorStats {
    const largest = this.largestFreeBlock;
    return {
      totalBytes: this.totalBytes,
      freeBytes: this.freeBytes,
      usedBytes: this.used,
      largestFreeBlock: largest,
      fragmentation: fragmentationOf(largest, this.freeBytes),
      liveAllocations: this.count,
    };
  }

  private checkHandedOut(op: string, addr: number, bytes: number, granule: number): void {
    checkAddress(addr, op);
    for (let i = 0; i < this.cursor.length; i++) {
      if (addr >= this.base[i] && addr < this.end[i]) {
        if (addr % granule !== 0) throw misalignedAddress(op, addr, granule);
        if (addr + bytes > this.cursor[i]) {
          throw new KernelError(
            'EINVAL',
            `${op}(${hex(addr)}): ${formatBytes(bytes)} from this address reach past what the region allocator has handed out (up to ${hex(this.cursor[i])})`,
          );
        }
        return;
      }
    }
    throw foreignAddress(op, addr, 'this region allocator');
  }
}
