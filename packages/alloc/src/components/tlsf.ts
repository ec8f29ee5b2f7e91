import { usableMemory } from '@uk/fdt';
import { type Component, InitLevel, KernelError, Services } from '@uk/hal';
import { TlsfFrames } from '../tlsf/frame-adapter.js';
import { TlsfHeap } from '../tlsf/heap.js';
import { ramCopier } from './ram-copy.js';

/**
 * One TLSF heap over all free RAM serves both byte allocations and page frames (frames are
 * page-rounded, page-aligned heap blocks). Initialisation is one free block per region;
 * every operation is constant time. Page-aligned frame requests cost a search for
 * size + alignment, and freed frames mix with small blocks, so large aligned frames
 * fragment sooner than under buddy().
 */
export function tlsf(): Component {
  return {
    name: 'tlsf',
    level: InitLevel.Memory,
    package: '@uk/alloc',
    provides: [Services.frames, Services.dma],
    init(ctx) {
      const heap = new TlsfHeap({ regions: usableMemory(ctx.fdt, ctx.bootReserved), move: ramCopier(ctx) });
      if (heap.totalBytes === 0) throw new KernelError('ENOMEM', 'tlsf(): boot found no free RAM to manage; give the machine more memory');
      ctx.provide(Services.frames, new TlsfFrames(heap));
      ctx.provide(Services.dma, heap);
    },
  };
}
