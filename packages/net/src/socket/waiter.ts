import { isKernelError, KernelError, type ThreadSpawner } from '@uk/hal';

/**
 * How a socket call blocks. The core never blocks: it settles promises. A socket call that
 * must wait awaits such a promise through a Waiter, which, when a scheduler is composed,
 * blocks the calling thread with `spawner.waitFor` so that other threads run meanwhile (a
 * thread keeps the CPU across a plain await). Without a scheduler — or outside any thread —
 * it is the plain promise.
 */
export class Waiter {
  constructor(readonly spawner?: ThreadSpawner) {}

  wait<T>(promise: Promise<T>): Promise<T> {
    const s = this.spawner;
    if (s === undefined) return promise;
    try {
      return s.waitFor(promise);
    } catch (e) {
      // Called from outside a thread (an interrupt handler, a timer callback, the host).
      if (isKernelError(e, 'EPERM')) return promise;
      throw e;
    }
  }
}

/** The shape of an AbortSignal (or @uk/sched's CancelSignal) that blocking calls accept. */
export interface CancelSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** Options every blocking socket call takes. */
export interface WaitOptions {
  /** Give up after this many milliseconds of the stack's clock (ETIMEDOUT). */
  readonly timeoutMs?: number;
  /** Give up when this aborts (ECANCELED, or its reason when that is a KernelError). */
  readonly signal?: CancelSignalLike;
}

/** A promise with its settle functions, settled at most once. */
export class Pending<T> {
  readonly promise: Promise<T>;
  settled = false;
  #resolve!: (v: T) => void;
  #reject!: (e: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
  }

  resolve(v: T): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#resolve(v);
    return true;
  }

  reject(e: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#reject(e);
    return true;
  }
}

/**
 * Waiters for one condition of one socket (readable, writable, connected...), first come
 * first served. The core wakes them; wait() arms the timeout and the cancel signal.
 */
export class WaitQueue<T> {
  #q: Pending<T>[] = [];

  /**
   * A promise settled by wakeOne/wakeAll/failAll, by the timeout (through `timers`, the stack's
   * clock) or by the signal. Not yet blocked: pass it to Waiter.wait.
   */
  wait(opts: WaitOptions | undefined, timers: { after(ms: number, fn: () => void): { cancel(): void } }, what: string): Promise<T> {
    const p = new Pending<T>();
    this.#q.push(p);
    const signal = opts?.signal;
    if (signal?.aborted) {
      this.#drop(p);
      p.reject(cancelError(signal.reason, what));
      return p.promise;
    }
    let timer: { cancel(): void } | undefined;
    const onAbort = (): void => {
      this.#drop(p);
      timer?.cancel();
      p.reject(cancelError(signal?.reason, what));
    };
    if (opts?.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) {
      timer = timers.after(Math.max(0, opts.timeoutMs), () => {
        this.#drop(p);
        signal?.removeEventListener?.('abort', onAbort);
        p.reject(new KernelError('ETIMEDOUT', `${what} timed out after ${opts.timeoutMs} ms`));
      });
    }
    signal?.addEventListener('abort', onAbort);
    if (timer !== undefined || signal !== undefined) {
      const done = (): void => {
        timer?.cancel();
        signal?.removeEventListener?.('abort', onAbort);
      };
      p.promise.then(done, done);
    }
    return p.promise;
  }

  /** Wakes the longest waiter with `v`; false when nobody waits. */
  wakeOne(v: T): boolean {
    for (;;) {
      const p = this.#q.shift();
      if (p === undefined) return false;
      if (p.resolve(v)) return true;
    }
  }

  wakeAll(v: T): number {
    const q = this.#q;
    this.#q = [];
    let n = 0;
    for (const p of q) if (p.resolve(v)) n++;
    return n;
  }

  failAll(error: unknown): number {
    const q = this.#q;
    this.#q = [];
    let n = 0;
    for (const p of q) if (p.reject(error)) n++;
    return n;
  }

  get length(): number {
    return this.#q.length;
  }

  #drop(p: Pending<T>): void {
    const i = this.#q.indexOf(p);
    if (i >= 0) this.#q.splice(i, 1);
  }
}

/** The error a cancelled wait rejects with: the signal's reason if it is a KernelError, else ECANCELED. */
export function cancelError(reason: unknown, what: string): KernelError {
  if (reason instanceof KernelError) return reason;
  return new KernelError('ECANCELED', `${what} was cancelled`);
}
