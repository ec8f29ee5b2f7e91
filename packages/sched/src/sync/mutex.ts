import { KernelError } from '@uk/hal';
import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import { RESOLVED } from '../thread/resolved.js';
import type { Thread } from '../thread/thread.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A mutual-exclusion lock owned by a thread. Unlocking hands it straight to the longest
 * waiter (no barging), so waiters get it in arrival order. A thread that ends while holding
 * it releases it (as a robust mutex would); one that locks it twice gets EDEADLK.
 */
export class Mutex {
  #owner: Thread | null = null;
  /** @internal */
  readonly queue: WaitQueue;

  constructor(
    readonly sched: Scheduler,
    readonly name = 'mutex',
  ) {
    this.queue = new WaitQueue(sched, name, 'mutex');
  }

  get owner(): Thread | null {
    return this.#owner;
  }

  get locked(): boolean {
    return this.#owner !== null;
  }

  /** Threads waiting for it. */
  get waiters(): number {
    return this.queue.length;
  }

  lock(signal?: CancelSignalLike): Promise<void> {
    const t = this.sched._require(`lock of mutex "${this.name}"`);
    const refused = this.sched._refuse(t, signal, `lock of mutex "${this.name}"`);
    if (refused !== null) return refused;
    if (this.#owner === null) {
      this.#take(t);
      return RESOLVED;
    }
    if (this.#owner === t) {
      return Promise.reject(new KernelError('EDEADLK', `thread ${t.label} already holds mutex "${this.name}"`));
    }
    return this.queue._waitAs(t, signal, true);
  }

  /** Takes the lock if it is free; never blocks. */
  tryLock(): boolean {
    const t = this.sched._require(`tryLock of mutex "${this.name}"`);
    if (this.#owner !== null) return false;
    this.#take(t);
    return true;
  }

  /** Releases the lock; only its owner may. */
  unlock(): void {
    const t = this.sched.current;
    if (t === null || this.#owner !== t) {
      const who = this.#owner === null ? 'nobody' : `thread ${this.#owner.label}`;
      throw new KernelError('EPERM', `mutex "${this.name}" is held by ${who}, not by the caller${t === null ? ' (no thread)' : ` ${t.label}`}`);
    }
    this._releaseBy(t);
  }

  /** Runs `fn` holding the lock, and releases it however `fn` ends (cancellation included). */
  async withLock<R>(fn: () => R | PromiseLike<R>, signal?: CancelSignalLike): Promise<R> {
    await this.lock(signal);
    const t = this.#owner as Thread;
    try {
      return await fn();
    } finally {
      if (this.#owner === t) this._releaseBy(t);
    }
  }

  /** @internal Re-takes the lock for `t` ignoring cancellation (a condition variable's wake-up). */
  _lockUncancellable(t: Thread): Promise<void> {
    if (this.#owner === null) {
      this.#take(t);
      return RESOLVED;
    }
    return this.queue._waitAs(t, undefined, false);
  }

  /** @internal Releases the lock held by `t` and hands it to the next waiter. */
  _releaseBy(t: Thread): void {
    const held = t.held;
    if (held !== null) {
      const i = held.lastIndexOf(this);
      if (i >= 0) held.splice(i, 1);
    }
    const next = this.queue.list.shift();
    if (next === null) {
      this.#owner = null;
      this.queue.holder = null;
      return;
    }
    this.#take(next);
    this.sched._wake(next, undefined);
  }

  /** @internal Called when `t` ends holding the lock. */
  abandon(t: Thread): void {
    if (this.#owner === t) this._releaseBy(t);
  }

  #take(t: Thread): void {
    this.#owner = t;
    this.queue.holder = t;
    if (t.held === null) t.held = [this];
    else t.held.push(this);
  }
}
