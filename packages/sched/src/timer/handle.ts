import type { Scheduler } from '../scheduler.js';

/** A callback timer armed with {@link Scheduler.setTimer}. */
export class TimerHandle {
  /** @internal */
  slot: number;
  /** @internal Which use of the slot this handle is, so a stale handle cancels nothing. */
  seq: number;

  constructor(
    /** @internal */ readonly sched: Scheduler,
    /** ns since boot. */
    readonly deadline: number,
    /** @internal */ readonly fn: () => void,
  ) {
    this.slot = -1;
    this.seq = -1;
  }

  /** Disarms the timer; returns false if it already fired or was cancelled. */
  cancel(): boolean {
    return this.sched._cancelTimer(this);
  }
}
