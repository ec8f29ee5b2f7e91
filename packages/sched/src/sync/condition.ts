import { KernelError } from '@uk/hal';
import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import type { Mutex } from './mutex.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A condition variable used with a {@link Mutex}: `wait` releases the mutex, blocks until
 * signalled, and re-takes the mutex before returning — also when the wait is cancelled, so the
 * caller's `finally { unlock() }` stays right. As everywhere, check the predicate in a loop.
 */
export class Condition {
  /** @internal */
  readonly queue: WaitQueue;

  constructor(
    readonly sched: Scheduler,
    readonly name = 'condition',
  ) {
    this.queue = new WaitQueue(sched, name, 'condition');
  }

  get waiters(): number {
    return this.queue.length;
  }

  async wait(mutex: Mutex, signal?: CancelSignalLike): Promise<void> {
    const t = this.sched._require(`wait on condition "${this.name}"`);
    if (mutex.owner !== t) {
      throw new KernelError('EPERM', `wait on condition "${this.name}" needs mutex "${mutex.name}" held by the caller ${t.label}`);
    }
    const refused = this.sched._refuse(t, signal, `wait on condition "${this.name}"`);
    if (refused !== null) return refused;
    mutex._releaseBy(t);
    let failed = false;
    let error: unknown;
    try {
      await this.queue._waitAs(t, signal, true);
    } catch (e) {
      failed = true;
      error = e;
    }
    await mutex._lockUncancellable(t);
    if (failed) throw error;
  }

  /** Wakes the longest waiter; false if none. */
  signal(): boolean {
    return this.queue.wakeOne();
  }

  /** Wakes every waiter; returns how many. */
  broadcast(): number {
    return this.queue.wakeAll();
  }
}
