import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import { RESOLVED } from '../thread/resolved.js';
import { WaitQueue } from './wait-queue.js';

export interface EventOptions {
  readonly name?: string;
  /**
   * false (default): `set()` releases every waiter and the event stays set until `reset()`.
   * true: `set()` releases one waiter, or — with none waiting — stays set until one `wait()`
   * consumes it (the usual interrupt-to-driver-thread signal: a set is never lost).
   */
  readonly autoReset?: boolean;
}

/** A flag threads wait on. `set()` may be called from anywhere, an interrupt handler included. */
export class Event {
  #set = false;
  readonly autoReset: boolean;
  readonly name: string;
  /** @internal */
  readonly queue: WaitQueue;

  constructor(
    readonly sched: Scheduler,
    opts: EventOptions = {},
  ) {
    this.name = opts.name ?? 'event';
    this.autoReset = opts.autoReset ?? false;
    this.queue = new WaitQueue(sched, this.name, 'event');
  }

  get isSet(): boolean {
    return this.#set;
  }

  get waiters(): number {
    return this.queue.length;
  }

  set(): void {
    if (this.autoReset) {
      if (!this.queue.wakeOne()) this.#set = true;
      return;
    }
    this.#set = true;
    this.queue.wakeAll();
  }

  reset(): void {
    this.#set = false;
  }

  /** Returns once the event is set (consuming it if auto-reset). */
  wait(signal?: CancelSignalLike): Promise<void> {
    const t = this.sched._require(`wait on event "${this.name}"`);
    const refused = this.sched._refuse(t, signal, `wait on event "${this.name}"`);
    if (refused !== null) return refused;
    if (this.#set) {
      if (this.autoReset) this.#set = false;
      return RESOLVED;
    }
    return this.queue._waitAs(t, signal, true);
  }
}
