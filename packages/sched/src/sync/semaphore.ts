import { KernelError } from '@uk/hal';
import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import { RESOLVED } from '../thread/resolved.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A counting semaphore. `release()` hands a permit straight to the longest waiter, so
 * waiters are served in arrival order and a release is never lost. `release()` may be called
 * from anywhere, an interrupt handler included.
 */
export class Semaphore {
  #count: number;
  /** @internal */
  readonly queue: WaitQueue;

  constructor(
    readonly sched: Scheduler,
    initial = 0,
    readonly name = 'semaphore',
  ) {
    if (!Number.isInteger(initial) || initial < 0) throw new KernelError('EINVAL', `semaphore "${name}": the initial count ${initial} must be an integer >= 0`);
    this.#count = initial;
    this.queue = new WaitQueue(sched, name, 'semaphore');
  }

  /** Permits available now. */
  get value(): number {
    return this.#count;
  }

  get waiters(): number {
    return this.queue.length;
  }

  acquire(signal?: CancelSignalLike): Promise<void> {
    const t = this.sched._require(`acquire of semaphore "${this.name}"`);
    const refused = this.sched._refuse(t, signal, `acquire of semaphore "${this.name}"`);
    if (refused !== null) return refused;
    if (this.#count > 0) {
      this.#count--;
      return RESOLVED;
    }
    return this.queue._waitAs(t, signal, true);
  }

  tryAcquire(): boolean {
    if (this.#count === 0) return false;
    this.#count--;
    return true;
  }

  release(n = 1): void {
    for (let i = 0; i < n; i++) if (!this.queue.wakeOne()) this.#count++;
  }
}
