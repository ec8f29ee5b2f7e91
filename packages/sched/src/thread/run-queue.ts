import { ThreadList } from './list.js';
import type { Thread } from './thread.js';

/** Priorities run from 0 (lowest) to 31 (highest); a bitmap finds the highest non-empty level. */
export const Priority = {
  Idle: 0,
  Low: 8,
  Normal: 16,
  High: 24,
  Max: 31,
} as const;

/** One FIFO per priority: round robin within a level, higher levels first. */
export class RunQueue {
  readonly levels: ThreadList[] = [];
  /** Bit p set when level p is not empty. */
  #ready = 0;
  length = 0;

  constructor() {
    for (let p = 0; p <= Priority.Max; p++) this.levels.push(new ThreadList());
  }

  push(t: Thread): void {
    this.levels[t.priority].push(t);
    this.#ready |= 1 << t.priority;
    this.length++;
  }

  /** The next thread to run, or null. */
  shift(): Thread | null {
    if (this.#ready === 0) return null;
    const p = 31 - Math.clz32(this.#ready);
    const level = this.levels[p];
    const t = level.shift() as Thread;
    if (level.length === 0) this.#ready &= ~(1 << p);
    this.length--;
    return t;
  }

  remove(t: Thread): void {
    const level = this.levels[t.priority];
    if (t.list !== level) return;
    level.remove(t);
    if (level.length === 0) this.#ready &= ~(1 << t.priority);
    this.length--;
  }

  /** Whether a thread of priority `p` or higher is waiting to run. */
  hasAtLeast(p: number): boolean {
    return this.#ready >>> p !== 0;
  }
}
