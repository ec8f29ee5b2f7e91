import type { RingBuffers } from './exit-ring.js';

/** What the device side hands the vCPU worker at start. */
export interface WorkerBoot {
  ram: SharedArrayBuffer;
  ramBase: number;
  ring: RingBuffers;
  clintState: SharedArrayBuffer;
  /** Device windows on the bus: an access outside all of them faults at once, on the vCPU. */
  windows: Array<{ base: number; size: number }>;
  clintBase: number;
  origin: bigint;
  code: string;
  path: string;
  dtb: number;
}
