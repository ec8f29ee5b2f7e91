import { usableMemory } from '@uk/fdt';
import { type Component, InitLevel, KernelError, Services } from '@uk/hal';
import { BuddyAllocator } from '../buddy/allocator.js';
import { TlsfHeap } from '../tlsf/heap.js';
import { ramCopier } from './ram-copy.js';

export interface BuddyComponentOptions {
  /** Smallest piece the DMA heap takes from the buddy when it grows (default 256 KiB). */
  readonly heapGrowBytes?: number;
}

/**
 * Frames from a buddy allocator over all free RAM; the DMA heap is a TLSF heap that takes
 * its pools from those frames as it grows (and gives them back on `trim()`). Page-sized
 * and larger memory costs no heap metadata; odd-sized DMA structures (rings, headers) get
 * constant-time byte allocation without rounding to powers of two.
 */
export function buddy(options: BuddyComponentOptions = {}): Component {
  return {
    name: 'buddy',
    level: InitLevel.Memory,
    package: '@uk/alloc',
    provides: [Services.frames, Services.dma],
    init(ctx) {
      const frames = new BuddyAllocator(usableMemory(ctx.fdt, ctx.bootReserved));
      if (frames.totalBytes === 0) throw new KernelError('ENOMEM', 'buddy(): boot found no free RAM to manage; give the machine more memory');
      const heap = new TlsfHeap({ frames, growBytes: options.heapGrowBytes, move: ramCopier(ctx) });
      ctx.provide(Services.frames, frames);
      ctx.provide(Services.dma, heap);
    },
  };
}
