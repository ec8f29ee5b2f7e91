import { usableMemory } from '@uk/fdt';
import { type Component, InitLevel, KernelError, Services } from '@uk/hal';
import { RegionAllocator } from '../region/bump.js';

/**
 * A bump allocator over all free RAM serves frames and DMA memory: the cheapest start and
 * the smallest code, for kernels that allocate at boot and never free. Free is a no-op
 * that only checks the range was handed out.
 */
export function region(): Component {
  return {
    name: 'region',
    level: InitLevel.Memory,
    package: '@uk/alloc',
    provides: [Services.frames, Services.dma],
    init(ctx) {
      const bump = new RegionAllocator(usableMemory(ctx.fdt, ctx.bootReserved));
      if (bump.totalBytes === 0) throw new KernelError('ENOMEM', 'region(): boot found no free RAM to manage; give the machine more memory');
      ctx.provide(Services.frames, bump);
      ctx.provide(Services.dma, bump);
    },
  };
}
