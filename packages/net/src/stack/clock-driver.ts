import type { ClockEvent, Timers } from '@uk/hal';
import { driveStack, type StackDriver } from './host-driver.js';
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
  if (timers !== undefined) return driveStack(stack, (deadline, fn) => timers.setTimer(deadline * 1e6, fn));
  let expire = (): void => {};
  clock.onExpire(() => expire());
  return driveStack(stack, (deadline, fn) => {
    expire = fn;
    clock.setDeadline(deadline * 1e6);
    return { cancel: () => clock.setDeadline(Number.POSITIVE_INFINITY) };
  });
}
