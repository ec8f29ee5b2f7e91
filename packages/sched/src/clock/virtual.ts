import type { ClockEvent } from '@uk/hal';

/**
 * A {@link ClockEvent} over virtual time, for tests and host-side simulations: time moves
 * only when told to, and moving it past the deadline fires the handler as the timer
 * interrupt would (deadline disarmed first).
 */
export class VirtualClock implements ClockEvent {
  #now: number;
  #deadline = Number.POSITIVE_INFINITY;
  #handler: (() => void) | null = null;
  /** Times the handler was called. */
  expiries = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  get deadline(): number {
    return this.#deadline;
  }

  setDeadline(deadline: number): void {
    this.#deadline = deadline;
  }

  onExpire(handler: () => void): void {
    this.#handler = handler;
  }

  /** Moves time forward to `t` (never back) and fires the handler if the deadline has come. */
  advanceTo(t: number): void {
    if (t > this.#now) this.#now = t;
    if (this.#now >= this.#deadline) {
      this.#deadline = Number.POSITIVE_INFINITY;
      this.expiries++;
      this.#handler?.();
    }
  }

  advanceBy(ns: number): void {
    this.advanceTo(this.#now + ns);
  }
}
