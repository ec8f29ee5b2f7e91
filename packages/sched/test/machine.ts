import { setImmediate as macrotask } from 'node:timers/promises';
import { Scheduler, type SchedulerOptions, type Thread, VirtualClock } from '../src/index.js';

/**
 * A fake machine for tests: a virtual clock and the idle loop boot would run. Once the
 * guest is quiescent (a host macrotask has come round, so every microtask has run), virtual
 * time jumps to the programmed deadline and the timer "interrupt" fires — the analogue of
 * `await cpu.wfi(clock.deadline)`.
 */
export class Machine {
  readonly clock: VirtualClock;
  readonly sched: Scheduler;
  /** Idle-loop turns that found the timer disarmed (the guest would sleep until a device interrupt). */
  idleWithoutDeadline = 0;
  /** Idle-loop turns that slept until a deadline. */
  wakeups = 0;

  constructor(opts: Partial<SchedulerOptions> = {}) {
    this.clock = new VirtualClock();
    this.sched = new Scheduler({ ...opts, clock: this.clock });
  }

  /** Runs the idle loop until nothing is armed and the guest is quiescent; returns the virtual time. */
  async settle(maxWakeups = 1_000_000): Promise<number> {
    for (;;) {
      await macrotask();
      if (this.clock.deadline === Number.POSITIVE_INFINITY) {
        this.idleWithoutDeadline++;
        return this.clock.now();
      }
      if (++this.wakeups > maxWakeups) throw new Error(`still running after ${maxWakeups} timer wake-ups`);
      this.clock.advanceTo(this.clock.deadline);
    }
  }

  /** Spawns `main` as boot would, runs the machine until it is idle, and returns main's thread. */
  async boot<T>(main: (self: Thread<T>) => T | PromiseLike<T>): Promise<Thread<T>> {
    const t = this.sched.spawn('main', main);
    await this.settle();
    return t;
  }
}

/** The outcome of a thread that has ended, for assertions. */
export async function outcome<T>(t: Thread<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await t.done };
  } catch (error) {
    return { ok: false, error };
  }
}
