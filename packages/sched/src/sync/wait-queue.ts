import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import { ThreadList } from '../thread/list.js';
import type { Thread, Waitable } from '../thread/thread.js';

/**
 * Threads waiting for something, first come first served (Unikraft's `uk_waitq`). Every
 * primitive of this package is built on it; use it directly for a condition of your own.
 * Waking is allowed from anywhere — a thread, an interrupt handler, a timer callback.
 */
export class WaitQueue<V = void> implements Waitable {
  /** @internal */
  readonly list = new ThreadList();
  /** The thread the waiters depend on, if one does (a mutex's owner): the dump's waits-for edge. */
  holder: Thread | null = null;

  constructor(
    readonly sched: Scheduler,
    readonly name = 'waitqueue',
    readonly kind = 'waitqueue',
  ) {}

  /** Threads waiting. */
  get length(): number {
    return this.list.length;
  }

  /** The thread that {@link wakeOne} would wake. */
  get first(): Thread | null {
    return this.list.head;
  }

  /** Blocks the calling thread until a wake gives it a value (or `signal` aborts, or the thread is cancelled). */
  wait(signal?: CancelSignalLike): Promise<V> {
    const t = this.sched._require(`wait on ${this.kind} "${this.name}"`);
    const refused = this.sched._refuse(t, signal, `wait on ${this.kind} "${this.name}"`);
    if (refused !== null) return refused;
    return this._waitAs(t, signal, true);
  }

  /** @internal Queues `t` (the current thread, already checked) and parks it. */
  _waitAs(t: Thread, signal: CancelSignalLike | undefined, cancellable: boolean): Promise<V> {
    this.list.push(t);
    return this.sched._block(t, 'blocked', this, signal, cancellable) as Promise<V>;
  }

  /** Wakes the longest waiter with `value`; false if nobody waits. */
  wakeOne(value?: V): boolean {
    const t = this.list.shift();
    if (t === null) return false;
    this.sched._wake(t, value);
    return true;
  }

  /** Wakes every waiter with `value`, in the order they came; returns how many. */
  wakeAll(value?: V): number {
    let n = 0;
    for (let t = this.list.shift(); t !== null; t = this.list.shift()) {
      this.sched._wake(t, value);
      n++;
    }
    return n;
  }

  /** Wakes the longest waiter by making its wait throw `error`. */
  wakeOneError(error: unknown): boolean {
    const t = this.list.shift();
    if (t === null) return false;
    this.sched._wakeError(t, error);
    return true;
  }

  /** Makes every waiter's wait throw `error`; returns how many. */
  wakeAllError(error: unknown): number {
    let n = 0;
    for (let t = this.list.shift(); t !== null; t = this.list.shift()) {
      this.sched._wakeError(t, error);
      n++;
    }
    return n;
  }
}
