import { type ClockEvent, KernelError } from '@uk/hal';
import { type CancelSignalLike, cancelError } from './cancel/signal.js';
import { findDeadlocks, formatDump, formatNs } from './debug/dump.js';
import { WaitQueue } from './sync/wait-queue.js';
import { ThreadExit } from './thread/exit.js';
import { RESOLVED } from './thread/resolved.js';
import { Priority, RunQueue } from './thread/run-queue.js';
import { Thread, type ThreadInfo, type ThreadState, type Waitable } from './thread/thread.js';
import { TimerHandle } from './timer/handle.js';
import { TimerHeap } from './timer/heap.js';
import { TimeoutSignal } from './timer/timeout.js';

export interface SchedulerOptions {
  /** The one-shot timer the scheduler multiplexes its timers onto (Services.clock). */
  readonly clock: ClockEvent;
  /**
   * Measure each thread's run time (one `clock.now()` per switch). Default true; turn it off
   * when the clock is expensive to read and switch rates matter more than the figure.
   */
  readonly accounting?: boolean;
  /**
   * Told about a thread that failed with nobody joining it, and about a timer callback that
   * threw. Without it, such a timer error is rethrown from the timer interrupt.
   */
  readonly onError?: (error: unknown, thread: Thread | null) => void;
}

export interface SpawnOptions {
  /** 0 (Priority.Idle) to 31 (Priority.Max); default Priority.Normal (16). */
  readonly priority?: number;
  /** Aborting it cancels the thread (see {@link Thread.cancel}). */
  readonly signal?: CancelSignalLike;
}

/** Counters for the whole scheduler. */
export interface SchedulerStats {
  readonly threads: number;
  readonly runnable: number;
  readonly switches: number;
  readonly timers: number;
  /** Earliest armed timer (ns since boot), Infinity when none. */
  readonly nextDeadline: number;
  readonly current: number | null;
}

/** A blocked thread awaiting a promise from outside the scheduler ({@link Scheduler.waitFor}). */
const PROMISE: Waitable = { kind: 'promise', name: 'waitFor', holder: null };

// The thread whose wait promise is being made: lets one shared executor fill in res/rej
// without a closure per switch.
let parking: Thread | null = null;
function park(res: (value: unknown) => void, rej: (error: unknown) => void): void {
  const t = parking as Thread;
  t.res = res;
  t.rej = rej;
}

/**
 * The cooperative scheduler. A thread is an async function; it runs from the moment it is
 * resumed until it waits in a call of this package, and then the next runnable thread is
 * resumed — highest priority first, round robin within a priority. Everything is driven by
 * promises: a switch is the resolution of the next thread's pending promise. Timers live in a
 * heap and share the one {@link ClockEvent}; when nothing is runnable, the kernel's idle loop
 * sleeps in `wfi` until the clock or a device interrupts, and the wakers run from there.
 *
 * The same calls in the same order with the same clock readings give the same interleaving.
 */
export class Scheduler {
  readonly clock: ClockEvent;
  #current: Thread | null = null;
  readonly #runq = new RunQueue();
  readonly #timers = new TimerHeap<Thread | TimerHandle>();
  readonly #live = new Set<Thread>();
  readonly #accounting: boolean;
  readonly #onError: ((error: unknown, thread: Thread | null) => void) | undefined;
  #nextId = 1;
  #switches = 0;
  #kickPending = false;
  #expiring = false;

  constructor(opts: SchedulerOptions) {
    this.clock = opts.clock;
    this.#accounting = opts.accounting ?? true;
    this.#onError = opts.onError;
    this.clock.onExpire(this.#expire);
  }

  /** The thread that holds the CPU, null when the kernel is idle or in an interrupt with no thread running. */
  get current(): Thread | null {
    return this.#current;
  }

  /**
   * Starts `fn` as a thread. It becomes runnable at once and runs when its turn comes; the
   * caller goes on. `fn` receives its own {@link Thread}.
   */
  spawn<T>(name: string, fn: (self: Thread<T>) => T | PromiseLike<T>, opts?: SpawnOptions): Thread<T> {
    if (typeof fn !== 'function') throw new KernelError('EINVAL', `spawn("${name}"): the thread body must be a function, got ${typeof fn}`);
    const priority = opts?.priority ?? Priority.Normal;
    if (!Number.isInteger(priority) || priority < Priority.Idle || priority > Priority.Max) {
      throw new KernelError(
        'EINVAL',
        `priority ${priority} of thread "${name}" is out of range: use an integer from ${Priority.Idle} (Priority.Idle) to ${Priority.Max} (Priority.Max)`,
      );
    }
    const t = new Thread<T>(this, this.#nextId++, name, priority, fn);
    this.#live.add(t as Thread);
    const signal = opts?.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        t.cancelled = true;
        t.cancelReason = signal.reason;
        this.#finish(t as Thread, false, cancelError(signal.reason, `thread ${t.label}`));
        return t;
      }
      t.spawnSignal = signal;
      t.spawnAbort = () => this._cancel(t as Thread, signal.reason);
      signal.addEventListener('abort', t.spawnAbort);
    }
    this.#runq.push(t as Thread);
    if (this.#current === null) this.#kick();
    return t;
  }

  /**
   * Lets every other runnable thread of the same or a higher priority run once before the
   * caller goes on. Returns at once when there is none (or outside a thread).
   */
  yield(): Promise<void> {
    const t = this.#current;
    if (t === null) return RESOLVED;
    if (t.cancelled) return this.#rejectCancelled(t);
    if (!this.#runq.hasAtLeast(t.priority)) return RESOLVED;
    t.state = 'runnable';
    this.#runq.push(t);
    return this.#switchAway(t) as Promise<void>;
  }

  /** Blocks the calling thread for `ns` nanoseconds (at least). */
  sleep(ns: number, signal?: CancelSignalLike): Promise<void> {
    if (!(ns >= 0)) throw new KernelError('EINVAL', `sleep(${ns}): the duration must be a number of nanoseconds >= 0`);
    return this.sleepUntil(this.clock.now() + ns, signal);
  }

  /**
   * Blocks the calling thread until the clock reads `deadline` (ns since boot) or later;
   * a deadline already past yields. `Infinity` sleeps until cancelled.
   */
  sleepUntil(deadline: number, signal?: CancelSignalLike): Promise<void> {
    const t = this._require('sleepUntil()');
    if (Number.isNaN(deadline)) throw new KernelError('EINVAL', 'sleepUntil(NaN): the deadline must be ns since boot');
    const refused = this._refuse(t, signal, 'sleep');
    if (refused !== null) return refused;
    if (deadline <= this.clock.now()) return this.yield();
    if (deadline !== Number.POSITIVE_INFINITY) {
      t.timerSlot = this.#timers.insert(deadline, t);
      if (this.#timers.topSlot === t.timerSlot) this.#rearm();
    }
    return this._block(t, 'sleeping', null, signal, true) as Promise<void>;
  }

  /** Ends the calling thread now; `join()` gives `value`. Works by throwing: do not catch everything. */
  exit(value?: unknown): never {
    throw new ThreadExit(this._require('exit()'), value);
  }

  /**
   * Blocks the calling thread until `promise` settles, letting others run meanwhile; use it to
   * await anything that is not a call of this package (a plain `await` keeps the CPU).
   */
  waitFor<T>(promise: PromiseLike<T>, signal?: CancelSignalLike): Promise<T> {
    const t = this._require('waitFor()');
    const refused = this._refuse(t, signal, 'waitFor');
    if (refused !== null) return refused;
    const wait = this._block(t, 'blocked', PROMISE, signal, true) as Promise<T>;
    const seq = t.waitSeq;
    promise.then(
      (value) => {
        if (t.waitSeq === seq && t.state === 'blocked') this._wake(t, value);
      },
      (error: unknown) => {
        if (t.waitSeq === seq && t.state === 'blocked') this._wakeError(t, error);
      },
    );
    return wait;
  }

  /**
   * Calls `fn` from the timer interrupt once the clock reads `deadline` or later. The callback
   * must not block; it may wake threads.
   */
  setTimer(deadline: number, fn: () => void): TimerHandle {
    if (Number.isNaN(deadline)) throw new KernelError('EINVAL', 'setTimer(NaN): the deadline must be ns since boot');
    const handle = new TimerHandle(this, deadline, fn);
    if (deadline === Number.POSITIVE_INFINITY) return handle;
    handle.slot = this.#timers.insert(deadline, handle);
    handle.seq = this.#timers.seqOf(handle.slot);
    if (this.#timers.topSlot === handle.slot) this.#rearm();
    return handle;
  }

  /** A signal that aborts with ETIMEDOUT `ns` nanoseconds from now; pass it to a wait to bound it. */
  timeout(ns: number): TimeoutSignal {
    const signal = new TimeoutSignal();
    signal.timer = this.setTimer(this.clock.now() + ns, () => {
      signal.timer = null;
      signal._abort(new KernelError('ETIMEDOUT', `timed out after ${formatNs(ns)}`));
    });
    return signal;
  }

  /** A snapshot of every thread that has not exited, in spawn order. */
  threads(): ThreadInfo[] {
    const out: ThreadInfo[] = [];
    for (const t of this.#live) out.push(this.#info(t));
    return out;
  }

  /** Cycles in the waits-for graph (each a list of threads, each waiting on the next). */
  deadlocks(): ThreadInfo[][] {
    return findDeadlocks(this.threads());
  }

  get stats(): SchedulerStats {
    return {
      threads: this.#live.size,
      runnable: this.#runq.length,
      switches: this.#switches,
      timers: this.#timers.size,
      nextDeadline: this.#timers.top,
      current: this.#current === null ? null : this.#current.id,
    };
  }

  /** A table of the threads — state, what each waits on and who holds it — and any deadlock. */
  dump(): string {
    return formatDump(this.threads(), this.stats);
  }

  // ── for the wait queues of this package ────────────────────────────────────────────────

  /** @internal The calling thread, or EPERM when a blocking call comes from outside any thread. */
  _require(what: string): Thread {
    const t = this.#current;
    if (t === null) {
      throw new KernelError('EPERM', `${what} may block, so it must be called from a thread: run the code with sched.spawn(name, fn)`);
    }
    return t;
  }

  /** @internal A rejected promise when `t` may not wait (cancelled, or `signal` aborted), else null. */
  _refuse(t: Thread, signal: CancelSignalLike | undefined, what: string): Promise<never> | null {
    if (t.cancelled) return this.#rejectCancelled(t);
    if (signal !== undefined && signal.aborted) return Promise.reject(cancelError(signal.reason, what));
    return null;
  }

  /**
   * @internal Parks the current thread `t` (already queued where its waker will find it) and
   * resumes the next one. The promise settles when the thread is resumed.
   */
  _block(t: Thread, state: ThreadState, waitsOn: Waitable | null, signal: CancelSignalLike | undefined, cancellable: boolean): Promise<unknown> {
    t.state = state;
    t.waitsOn = waitsOn;
    t.waitCancellable = cancellable;
    const seq = ++t.waitSeq;
    if (signal !== undefined) {
      const abort = (): void => {
        if (t.waitSeq === seq && (t.state === 'blocked' || t.state === 'sleeping')) {
          this.#interrupt(t, cancelError(signal.reason, describeWait(t)));
        }
      };
      t.waitSignal = signal;
      t.waitAbort = abort;
      signal.addEventListener('abort', abort);
    }
    return this.#switchAway(t);
  }

  /** @internal Makes a waiting thread (already off its wait queue) runnable; it resumes with `value`. */
  _wake(t: Thread, value: unknown): void {
    this.#detach(t);
    t.wakeValue = value;
    t.wakeFailed = false;
    this.#makeRunnable(t);
  }

  /** @internal As {@link _wake}, but the thread resumes by throwing `error`. */
  _wakeError(t: Thread, error: unknown): void {
    this.#detach(t);
    t.wakeValue = error;
    t.wakeFailed = true;
    this.#makeRunnable(t);
  }

  /** @internal */
  _cancel(t: Thread, reason: unknown): void {
    if (t.state === 'exited' || t.cancelled) return;
    t.cancelled = true;
    t.cancelReason = reason;
    if (t.fn !== null) {
      // Never started: it ends without running.
      this.#runq.remove(t);
      this.#finish(t, false, cancelError(reason, `thread ${t.label}`));
      return;
    }
    if ((t.state === 'blocked' || t.state === 'sleeping') && t.waitCancellable) {
      this.#interrupt(t, cancelError(reason, `thread ${t.label}`));
    }
  }

  /** @internal */
  _join(target: Thread, signal: CancelSignalLike | undefined): Promise<unknown> {
    const t = this.#current;
    if (t === null) return target.done;
    if (t === target) return Promise.reject(new KernelError('EDEADLK', `thread ${t.label} cannot join itself`));
    const refused = this._refuse(t, signal, `join of thread ${target.label}`);
    if (refused !== null) return refused;
    if (target.state === 'exited') return target.ok ? Promise.resolve(target.result) : Promise.reject(target.result);
    if (target.joiners === null) {
      const q = new WaitQueue<unknown>(this, target.label, 'join');
      q.holder = target;
      target.joiners = q;
    }
    return (target.joiners as WaitQueue<unknown>)._waitAs(t, signal, true);
  }

  /** @internal */
  _cancelTimer(handle: TimerHandle): boolean {
    if (handle.slot < 0 || this.#timers.seqOf(handle.slot) !== handle.seq) return false;
    this.#timers.remove(handle.slot);
    handle.slot = -1;
    if (!this.#expiring) this.#rearm();
    return true;
  }

  // ── switching ──────────────────────────────────────────────────────────────────────────

  #switchAway(t: Thread): Promise<unknown> {
    parking = t;
    const p = new Promise(park);
    parking = null;
    let now = 0;
    if (this.#accounting) {
      now = this.clock.now();
      t.runTime += now - t.lastIn;
    }
    this.#dispatch(now);
    return p;
  }

  /** Resumes the next runnable thread, or leaves the CPU idle. */
  #dispatch(now: number): void {
    const t = this.#runq.shift();
    if (t === null) {
      this.#current = null;
      return;
    }
    this.#current = t;
    t.state = 'running';
    t.switches++;
    this.#switches++;
    t.lastIn = now;
    const fn = t.fn;
    if (fn !== null) {
      t.fn = null;
      void this.#run(t, fn);
      return;
    }
    const value = t.wakeValue;
    t.wakeValue = undefined;
    if (t.wakeFailed) {
      t.wakeFailed = false;
      (t.rej as (e: unknown) => void)(value);
    } else {
      (t.res as (v: unknown) => void)(value);
    }
    t.res = null;
    t.rej = null;
  }

  async #run(t: Thread, fn: (self: Thread) => unknown): Promise<void> {
    // Start on a microtask of its own, not on the stack of whoever dispatched it.
    await RESOLVED;
    let ok = true;
    let value: unknown;
    try {
      value = await fn(t);
    } catch (e) {
      if (e instanceof ThreadExit && e.thread === t) {
        value = e.value;
      } else {
        ok = false;
        value = e;
      }
    }
    this.#finish(t, ok, value);
  }

  #finish(t: Thread, ok: boolean, value: unknown): void {
    if (t.state === 'exited') return;
    const wasCurrent = this.#current === t;
    let now = 0;
    if (wasCurrent && this.#accounting) {
      now = this.clock.now();
      t.runTime += now - t.lastIn;
    }
    t.state = 'exited';
    t.ok = ok;
    t.result = value;
    t.waitsOn = null;
    this.#live.delete(t);
    if (t.spawnAbort !== null) {
      t.spawnSignal?.removeEventListener?.('abort', t.spawnAbort);
      t.spawnSignal = null;
      t.spawnAbort = null;
    }
    if (t.held !== null) {
      // Like a robust mutex: what a dead thread held goes to the next waiter.
      const held = t.held;
      t.held = null;
      for (const m of held) m.abandon(t);
    }
    let observed = false;
    if (t.joiners !== null) {
      observed = (ok ? t.joiners.wakeAll(value) : t.joiners.wakeAllError(value)) > 0;
      t.joiners = null;
    }
    if (t.doneRes !== null) {
      observed = true;
      if (ok) t.doneRes(value);
      else (t.doneRej as (e: unknown) => void)(value);
      t.doneRes = null;
      t.doneRej = null;
    }
    if (!ok && !observed && !t.cancelled) this.#onError?.(value, t);
    if (wasCurrent) this.#dispatch(now);
  }

  #makeRunnable(t: Thread): void {
    t.state = 'runnable';
    this.#runq.push(t);
    if (this.#current === null) this.#kick();
  }

  /** Ends a thread's wait: drops its per-call signal listener and its timer. */
  #detach(t: Thread): void {
    if (t.waitAbort !== null) {
      t.waitSignal?.removeEventListener?.('abort', t.waitAbort);
      t.waitSignal = null;
      t.waitAbort = null;
    }
    if (t.timerSlot >= 0) {
      this.#timers.remove(t.timerSlot);
      t.timerSlot = -1;
      if (!this.#expiring) this.#rearm();
    }
    t.waitsOn = null;
  }

  /** Takes a blocked or sleeping thread off what it waits on; it resumes by throwing `error`. */
  #interrupt(t: Thread, error: unknown): void {
    t.list?.remove(t);
    this._wakeError(t, error);
  }

  #rejectCancelled(t: Thread): Promise<never> {
    return Promise.reject(cancelError(t.cancelReason, `thread ${t.label}`));
  }

  /** Dispatches from a microtask when the CPU is idle, so that all threads woken together are considered. */
  #kick(): void {
    if (this.#kickPending) return;
    this.#kickPending = true;
    RESOLVED.then(this.#onKick);
  }

  readonly #onKick = (): void => {
    this.#kickPending = false;
    if (this.#current === null) this.#dispatch(this.#accounting ? this.clock.now() : 0);
  };

  // ── timers ─────────────────────────────────────────────────────────────────────────────

  /** The clock's interrupt: wakes every timer that is due — never one that is not. */
  readonly #expire = (): void => {
    const now = this.clock.now();
    const timers = this.#timers;
    let failure: unknown = null;
    let failed = false;
    this.#expiring = true;
    try {
      while (timers.size > 0 && timers.top <= now) {
        const owner = timers.pop();
        if (owner instanceof Thread) {
          owner.timerSlot = -1;
          this._wake(owner, undefined);
        } else {
          owner.slot = -1;
          try {
            owner.fn();
          } catch (e) {
            if (this.#onError !== undefined) this.#onError(e, null);
            else if (!failed) {
              failed = true;
              failure = e;
            }
          }
        }
      }
    } finally {
      this.#expiring = false;
      this.#rearm();
    }
    if (failed) throw failure;
  };

  #rearm(): void {
    const d = this.#timers.top;
    if (d !== this.clock.deadline) this.clock.setDeadline(d);
  }

  #info(t: Thread): ThreadInfo {
    const w = t.waitsOn;
    let runTime = t.runTime;
    if (t === this.#current && this.#accounting) runTime += this.clock.now() - t.lastIn;
    return {
      id: t.id,
      name: t.name,
      priority: t.priority,
      state: t.state,
      waitsOn: w === null ? null : `${w.kind} "${w.name}"`,
      waitsFor: w?.holder?.id ?? null,
      wakeAt: t.timerSlot >= 0 ? this.#timers.deadlineOf(t.timerSlot) : null,
      switches: t.switches,
      runTime,
      cancelled: t.cancelled,
    };
  }
}

function describeWait(t: Thread): string {
  const w = t.waitsOn;
  return w === null ? 'sleep' : `wait on ${w.kind} "${w.name}"`;
}
