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
  return driveStack(stack, (deadline, fn) => {
    const handle = timers.setTimeout(fn, Math.max(0, deadline - stack.now()));
    return { cancel: () => timers.clearTimeout(handle) };
  });
}

/** A one-shot timer: calls `fn` at `deadline` (the stack's ms) unless cancelled. */
export type ArmTimer = (deadline: number, fn: () => void) => { cancel(): void };

/**
 * The one polling loop every driver shares: poll when woken (in a microtask, never inside
 * the stack's own call) and again at the deadline each poll returns, through `arm`.
 */
export function driveStack(stack: NetStack, arm: ArmTimer): StackDriver {
  let handle: { cancel(): void } | undefined;
  let queued = false;
  let stopped = false;
  const run = (): void => {
    queued = false;
    if (stopped) return;
    handle?.cancel();
    handle = undefined;
    const next = stack.poll();
    if (Number.isFinite(next)) handle = arm(next, run);
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
      handle?.cancel();
      handle = undefined;
      stack.onWake(() => {});
    },
    pollNow: run,
  };
}
