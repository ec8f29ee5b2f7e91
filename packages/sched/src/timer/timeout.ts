import { CancelSignal } from '../cancel/signal.js';
import type { TimerHandle } from './handle.js';

/**
 * A signal that aborts with KernelError('ETIMEDOUT') when its timer fires (made by
 * `sched.timeout(ns)`). Pass it to any wait to bound it.
 */
export class TimeoutSignal extends CancelSignal {
  /** @internal */
  timer: TimerHandle | null = null;

  /** Disarms the timer if the signal is no longer needed (it does not abort the signal). */
  clear(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
