import type { Scheduler } from '../scheduler.js';
import type { CancelSignalLike } from '../cancel/signal.js';
import type { ThreadList } from './list.js';

export type ThreadState = 'runnable' | 'running' | 'blocked' | 'sleeping' | 'exited';

/** What a blocked thread waits on: a wait queue, named for the dump. */
export interface Waitable {
  /** "mutex", "semaphore", "channel.recv", "join"... */
  readonly kind: string;
  readonly name: string;
  /** The thread that must act before the waiter can go on (a mutex's owner, a joined thread), if one does. */
  readonly holder: Thread | null;
}

/** A snapshot of one thread, for introspection. */
export interface ThreadInfo {
  readonly id: number;
  readonly name: string;
  readonly priority: number;
  readonly state: ThreadState;
  /** e.g. `mutex "fs"`, null when not blocked. */
  readonly waitsOn: string | null;
  /** Id of the thread that holds what this one waits on, if any (the waits-for edge). */
  readonly waitsFor: number | null;
  /** When a sleeping thread wakes (ns since boot), else null. */
  readonly wakeAt: number | null;
  /** Times the thread was switched in. */
  readonly switches: number;
  /** ns spent running (0 when the scheduler's accounting is off). */
  readonly runTime: number;
  readonly cancelled: boolean;
}

/**
 * A thread: an async function the scheduler runs. It holds the CPU from the moment it is
 * resumed until it waits in a scheduler call (yield, sleep, a lock, a channel...). Fields are
 * read-only for users; the scheduler and the wait queues update them.
 */
export class Thread<T = unknown> {
  state: ThreadState = 'runnable';
  /** Times switched in. */
  switches = 0;
  /** ns spent running. */
  runTime = 0;
  /** What a blocked thread waits on. */
  waitsOn: Waitable | null = null;
  /** Set once by {@link cancel}; every later blocking call rejects with ECANCELED. */
  cancelled = false;

  /** @internal The body, until the thread starts. */
  fn: ((self: any) => unknown) | null;
  /** @internal Links in the run queue or a wait queue. */
  next: Thread | null = null;
  /** @internal */
  prev: Thread | null = null;
  /** @internal */
  list: ThreadList | null = null;
  /** @internal Settle the promise the thread awaits. */
  res: ((value: unknown) => void) | null = null;
  /** @internal */
  rej: ((error: unknown) => void) | null = null;
  /** @internal What the thread resumes with. */
  wakeValue: unknown = undefined;
  /** @internal When set, the thread resumes by throwing wakeValue. */
  wakeFailed = false;
  /** @internal Bumped at every wait, so late abort listeners and promise callbacks can tell they are stale. */
  waitSeq = 0;
  /** @internal Whether cancel() may interrupt the current wait. */
  waitCancellable = true;
  /** @internal The per-call signal of the current wait and its listener. */
  waitSignal: CancelSignalLike | null = null;
  /** @internal */
  waitAbort: (() => void) | null = null;
  /** @internal Timer slot while sleeping, -1 otherwise. */
  timerSlot = -1;
  /** @internal Time it was last switched in. */
  lastIn = 0;
  /** @internal A value travelling with the wait (a channel sender's message). */
  payload: unknown = undefined;
  /** @internal Mutexes held, released if the thread ends holding them. */
  held: { abandon(t: Thread): void }[] | null = null;
  /** @internal */
  cancelReason: unknown = undefined;
  /** @internal Outcome once exited. */
  ok = true;
  /** @internal */
  result: unknown = undefined;
  /** @internal Threads blocked in join(). */
  joiners: { wakeAll(value: unknown): number; wakeAllError(error: unknown): number } | null = null;
  /** @internal Lazily created promise for joins from outside threads. */
  donePromise: Promise<unknown> | null = null;
  /** @internal */
  doneRes: ((value: unknown) => void) | null = null;
  /** @internal */
  doneRej: ((error: unknown) => void) | null = null;
  /** @internal The spawn signal and its listener. */
  spawnSignal: CancelSignalLike | null = null;
  /** @internal */
  spawnAbort: (() => void) | null = null;

  constructor(
    /** @internal */ readonly sched: Scheduler,
    readonly id: number,
    readonly name: string,
    readonly priority: number,
    fn: (self: Thread<T>) => T | PromiseLike<T>,
  ) {
    this.fn = fn;
  }

  /**
   * Waits for the thread to end and gives its result (or throws its error). Called from a
   * thread, the caller blocks (and the dump shows whom it waits for); called from anywhere
   * else it is the same as {@link done}.
   */
  join(signal?: CancelSignalLike): Promise<T> {
    return this.sched._join(this, signal) as Promise<T>;
  }

  /**
   * The thread's outcome as a plain promise, for code that is not a thread (boot, tests).
   * A thread should use {@link join} instead: awaiting a plain promise keeps the CPU.
   */
  get done(): Promise<T> {
    if (this.donePromise === null) {
      if (this.state === 'exited') {
        this.donePromise = this.ok ? Promise.resolve(this.result) : Promise.reject(this.result);
      } else {
        this.donePromise = new Promise<unknown>((res, rej) => {
          this.doneRes = res;
          this.doneRej = rej;
        });
      }
    }
    return this.donePromise as Promise<T>;
  }

  /**
   * Cancels the thread: the wait it is blocked in (or its next blocking call) rejects with a
   * KernelError — ECANCELED, or `reason` itself when it is a KernelError. A thread that never
   * started ends at once. Cancellation is sticky: every later blocking call rejects too.
   */
  cancel(reason?: unknown): void {
    this.sched._cancel(this, reason);
  }

  /** "#3 worker", as dumps and errors name it. */
  get label(): string {
    return `#${this.id} ${this.name}`;
  }
}
