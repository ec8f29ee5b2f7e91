import { serviceKey } from './component.js';
import type { ClockEvent, DmaHeap, FrameAllocator, IrqController, PowerControl, ThreadSpawner, Timers } from './services.js';

/** The services of the base system, by the names components look them up with. */
const PLATFORM = 'a platform: virt() from @uk/plat-virt';
const ALLOCATOR = 'an allocator: buddy(), tlsf() or region() from @uk/alloc';

export const Services = {
  irq: serviceKey<IrqController>('irq', PLATFORM),
  clock: serviceKey<ClockEvent>('clock', PLATFORM),
  power: serviceKey<PowerControl>('power', PLATFORM),
  frames: serviceKey<FrameAllocator>('frames', ALLOCATOR),
  dma: serviceKey<DmaHeap>('dma', ALLOCATOR),
  scheduler: serviceKey<ThreadSpawner>('scheduler', 'coop() from @uk/sched'),
  timers: serviceKey<Timers>('timers', 'coop() from @uk/sched'),
} as const;
