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
  /** V8's code cache for `code` from an earlier run, if the host has one. */
  codeCache?: Uint8Array;
  /** Post a fresh code cache once the guest has booted (the host has none, or it was stale). */
  wantCodeCache: boolean;
  path: string;
  dtb: number;
}
