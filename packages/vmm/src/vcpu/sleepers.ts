import type { Sleeper } from './hart.js';

/** Inline mode: the host's event loop must keep running, so sleeping is a promise. */
export class EventLoopSleeper implements Sleeper {
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number) {}

  sleep(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      const delayMs = (deadline - this.now()) / 1e6;
      // setTimeout is good to a millisecond; closer deadlines poll once per event-loop turn.
      if (delayMs > 1.5 && Number.isFinite(delayMs)) this.timer = setTimeout(() => this.notify(), delayMs - 1);
      else if (Number.isFinite(delayMs)) setImmediate(() => this.notify());
    });
  }

  /** An interrupt line changed, or the machine stopped. */
  notify(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
