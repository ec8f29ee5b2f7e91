import type { NetStack } from './stack.js';

/** The host's timer functions (globalThis.setTimeout and clearTimeout in Node or a browser). */
export interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a driver returns: stop() ends the polling; pollNow() runs a poll at once. */
export interface StackDriver {
  stop(): void;
  pollNow(): void;
}

/**
 * Drives a stack with host timers, for tests, tools and the VMM: polls when woken (in a
 * microtask, never inside the stack's own call) and at the deadline each poll returns. The
 * stack's clock should be the host's (e.g. `now: () => performance.now()`).
 */
export function driveWithHostTimers(stack: NetStack, timers: HostTimers): StackDriver {
  let handle: unknown;
  let queued = false;
  let stopped = false;
  const run = (): void => {
    queued = false;
    if (stopped) return;
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
    const next = stack.poll();
    if (Number.isFinite(next)) handle = timers.setTimeout(run, Math.max(0, next - stack.now()));
  };
  stack.onWake(() => {
    if (queued || stopped) return;
    queued = true;
    void Promise.resolve().then(run);
  });
  run();
  return {
    stop() {
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      handle = undefined;
      stack.onWake(() => {});
    },
    pollNow: run,
  };
}
