import type { MachineClock } from '../devices/clint.js';

/** The host's monotonic clock, as ns since `origin` (shared by every thread of the machine). */
export function hostClock(origin: bigint = process.hrtime.bigint()): MachineClock & { origin: bigint } {
  return { origin, now: () => Number(process.hrtime.bigint() - origin) };
}
