import { type Component, InitLevel, type KernelContext, Services, type ThreadSpawner, serviceKey } from '@uk/hal';
import { Scheduler } from './scheduler.js';
import type { Thread } from './thread/thread.js';

/** The scheduler instance, for applications and components: `ctx.get(SchedulerKey)`. */
export const SchedulerKey = serviceKey<Scheduler>('sched.scheduler', 'coop() from @uk/sched');

export interface CoopOptions {
  /** Measure each thread's run time (default true); see SchedulerOptions.accounting. */
  readonly accounting?: boolean;
}

/**
 * The cooperative scheduler as a kernel component. It takes the platform's clock event,
 * provides `Services.scheduler` (boot runs `main` through it, as the first thread) and
 * {@link SchedulerKey}. A thread that fails with nobody joining it is reported on the console.
 */
export function coop(opts: CoopOptions = {}): Component {
  return {
    name: 'sched',
    level: InitLevel.Scheduler,
    package: '@uk/sched',
    requires: [Services.clock],
    provides: [Services.scheduler, Services.timers, SchedulerKey],
    init(ctx: KernelContext): void {
      const sched = new Scheduler({
        clock: ctx.get(Services.clock),
        accounting: opts.accounting,
        onError: (error: unknown, thread: Thread | null) => {
          const what = thread === null ? 'a timer callback' : `thread ${thread.label}`;
          const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
          ctx.console.write(`sched: ${what} failed: ${why}\n`);
        },
      });
      const spawner: ThreadSpawner = {
        spawn: <T>(name: string, fn: () => Promise<T>): Promise<T> => sched.spawn<T>(name, () => fn()).done,
        waitFor: <T>(promise: Promise<T>): Promise<T> => sched.waitFor(promise),
      };
      ctx.provide(Services.scheduler, spawner);
      ctx.provide(Services.timers, { setTimer: (deadline: number, fn: () => void) => sched.setTimer(deadline, fn) });
      ctx.provide(SchedulerKey, sched);
    },
  };
}
