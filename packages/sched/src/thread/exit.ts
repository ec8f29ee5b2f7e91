import type { Thread } from './thread.js';

/** Thrown by `exit()` and caught by the thread's wrapper: it unwinds the thread's stack. */
export class ThreadExit {
  constructor(
    readonly thread: Thread,
    readonly value: unknown,
  ) {}
}
