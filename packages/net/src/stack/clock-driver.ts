import type { ClockEvent, Timers } from '@uk/hal';
import type { StackDriver } from './host-driver.js';
import type { NetStack } from './stack.js';

/** Timers multiplexed on the platform clock: hal's Services.timers (the scheduler's). */
export type TimerService = Timers;

/**
 * Drives a stack in the kernel: with a scheduler composed, through its timers (it owns the
 * clock); without one, by programming the platform's ClockEvent directly. Wake-ups run a
 * poll in a microtask, which the idle loop lets run before it sleeps in wfi. The stack's
 * clock must be this clock in ms: `now: () => clock.now() / 1e6`.
 */
export function driveFromClock(stack: NetStack, clock: ClockEvent, timers?: TimerService): StackDriver {
  let handle: { cancel(): void } | undefined;
  let queued = false;
  let stopped = false;
  const run = (): void => {
    queued = false;
    if (stopped) return;
    handle?.cancel();
    handle = undefined;
    const next = stack.poll();
    if (!Number.isFinite(next)) return;
    const ns = next * 1e6;
    if (timers !== undefined) handle = timers.setTimer(ns, run);
    else {
      clock.setDeadline(ns);
      handle = { cancel: () => clock.setDeadline(Number.POSITIVE_INFINITY) };
    }
  };
  if (timers === undefined) clock.onExpire(run);
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
    },
    pollNow: run,
  };
}
