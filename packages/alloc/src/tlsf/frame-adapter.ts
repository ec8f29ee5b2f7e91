/**
 * Page frames served by a TLSF heap, for kernels that run one heap over all of RAM
 * (`tlsf()`): requests are rounded to whole pages and aligned to a page at least.
 */
import type { FrameAllocator } from '@uk/hal';
import { alignUp, PAGE_SIZE } from '../bits.js';
import { checkAlign, checkSize } from '../errors.js';
import type { HasStats } from '../stats.js';
import type { TlsfHeap, TlsfStats } from './heap.js';

export class TlsfFrames implements FrameAllocator, HasStats {
  constructor(readonly heap: TlsfHeap) {}

  get freeBytes(): number {
    return this.heap.freeBytes;
  }

  get totalBytes(): number {
    return this.heap.totalBytes;
  }

  allocFrames(bytes: number, align: number = PAGE_SIZE): number {
    checkSize(bytes, 'allocFrames');
    checkAlign(align, 'allocFrames');
    return this.heap.alloc(alignUp(bytes, PAGE_SIZE), align > PAGE_SIZE ? align : PAGE_SIZE);
  }

  stats(): TlsfStats {
    return this.heap.stats();
  }

  /** Frees with the size checked: it must round to the same number of pages as allocated. */
  freeFrames(addr: number, bytes: number): void {
    checkSize(bytes, 'freeFrames');
    this.heap.free(addr, alignUp(bytes, PAGE_SIZE));
  }
}
