import { serviceKey } from './component.js';
import type { ClockEvent, DmaHeap, FrameAllocator, IrqController, PowerControl, ThreadSpawner } from './services.js';

/** The services of the base system, by the names components look them up with. */
export const Services = {
  irq: serviceKey<IrqController>('irq', 'the platform (virt() from @uk/plat-virt, composed by default)'),
  clock: serviceKey<ClockEvent>('clock', 'the platform (virt() from @uk/plat-virt, composed by default)'),
  power: serviceKey<PowerControl>('power', 'the platform (virt() from @uk/plat-virt, composed by default)'),
  frames: serviceKey<FrameAllocator>('frames', 'an allocator: buddy(), tlsf() or region() from @uk/alloc'),
  dma: serviceKey<DmaHeap>('dma', 'an allocator: buddy(), tlsf() or region() from @uk/alloc'),
  scheduler: serviceKey<ThreadSpawner>('scheduler', 'coop() from @uk/sched'),
} as const;
