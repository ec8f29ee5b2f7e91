import { serviceKey } from './component.js';
import type { ClockEvent, DmaHeap, FrameAllocator, IrqController, PowerControl, ThreadSpawner, Timers } from './services.js';

/** The services of the base system, by the names components look them up with. */
const PLATFORM = 'a platform: virt() from @uk/plat-virt';
const ALLOCATOR = 'an allocator: buddy(), tlsf() or region() from @uk/alloc';

/** The keys of the base system's services: `ctx.get(Services.dma)`. */
export const Services = {
  /** The interrupt controller (the PLIC). */
  irq: serviceKey<IrqController>('irq', PLATFORM),
  /** The one-shot timer (the CLINT). */
  clock: serviceKey<ClockEvent>('clock', PLATFORM),
  /** Power-off and reboot (the test device). */
  power: serviceKey<PowerControl>('power', PLATFORM),
  /** Physical page frames. */
  frames: serviceKey<FrameAllocator>('frames', ALLOCATOR),
  /** Byte-granular memory devices can reach by DMA. */
  dma: serviceKey<DmaHeap>('dma', ALLOCATOR),
  /** Threads: `spawn` and `waitFor`. */
  scheduler: serviceKey<ThreadSpawner>('scheduler', 'coop() from @uk/sched'),
  /** Many timers on the one clock. */
  timers: serviceKey<Timers>('timers', 'coop() from @uk/sched'),
} as const;
