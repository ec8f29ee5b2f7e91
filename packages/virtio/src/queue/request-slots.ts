import { KernelError } from '@uk/hal';

/** The most slots a RequestSlots holds: slot numbers are kept in a Uint16Array. */
const MAX_SLOTS = 65536;
/** Waiters the FIFO holds before it first grows (it doubles, and never shrinks). */
const INITIAL_WAITERS = 16;

const noKick = (): void => {};

/**
 * The request slots of a virtio driver: a fixed number of numbered slots, one per request the
 * driver may have in flight (size it to what the ring holds). A slot stands for the
 * per-request state a driver keeps in its own typed arrays (a header and status byte in DMA
 * memory, a bounce buffer, a token for `SplitQueue.add`); this class decides who owns which
 * slot, parks each request's promise until the device answers, and coalesces notifications.
 *
 * The life of a request:
 *
 * 1. `await acquire()` (or `tryAcquire()`, which never waits) — a free slot at once, else the
 *    next one released, first come first served;
 * 2. build the chain, `queue.add(slot)`, then `completion(slot)` parks the request's
 *    resolve/reject and `scheduleKick()` asks for one notification at the end of this turn;
 * 3. in the used-buffer interrupt, `complete(slot, value)` or `fail(slot, error)` settles the
 *    parked promise;
 * 4. `release(slot)` hands the slot to the first waiter (or back to the free list).
 *
 * For a device reset, `pause()` stops handing slots out (waiters keep waiting, releases go to
 * the free list, kicks are dropped) and `resume()` hands the free slots to the waiters. If the
 * device cannot be brought back, `failAll(error)` rejects every parked promise and every
 * waiter with `error`, and every later `acquire`.
 *
 * Allocation-free on the hot path: slot numbers, owners and parked callbacks live in arrays
 * made once; the only object made per request is the promise of `completion`. It uses
 * nothing but ECMAScript built-ins (the notification is a microtask of `Promise.resolve()`).
 *
 * @typeParam T - what a completed request resolves with (`void`, a length, ...).
 */
export class RequestSlots<T> {
  /** How many slots there are: the most requests in flight at once. */
  readonly capacity: number;

  private readonly freeList: Uint16Array;
  private nFree: number;
  /** 1 while the slot has an owner (taken, or handed to a waiter whose acquire has not returned yet). */
  private readonly owned: Uint8Array;
  private readonly resolves: Array<((value: T) => void) | undefined>;
  private readonly rejects: Array<((error: Error) => void) | undefined>;
  /** Waiters for a slot, a ring of power-of-two length; a waiter gets a slot, or -1 once dead. */
  private waiters: Array<((slot: number) => void) | undefined>;
  private waitHead = 0;
  private nWaiting = 0;
  private isPaused = false;
  private failure: Error | undefined;
  private kickScheduled = false;
  /** The slot `completion` is parking; read by the preallocated executor `park`. */
  private parking = 0;
  private readonly park: (resolve: (value: T) => void, reject: (error: Error) => void) => void;
  private readonly enqueue: (resolve: (slot: number) => void) => void;
  private readonly kickNow: () => void;

  /**
   * @param count - The number of slots (1 to 65536): the requests the ring holds at once.
   * @param kick - Notifies the device (typically `() => device.kick(queue)`); called by
   *   `scheduleKick` at most once per turn, and never while paused or dead.
   */
  constructor(count: number, kick: () => void = noKick) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_SLOTS) {
      throw new KernelError('EINVAL', `RequestSlots(${count}): expected a whole number of slots from 1 to ${MAX_SLOTS} (as many as the ring holds)`);
    }
    this.capacity = count;
    this.freeList = new Uint16Array(count);
    // Slot 0 on top, so that slots are first handed out in order.
    for (let i = 0; i < count; i++) this.freeList[i] = count - 1 - i;
    this.nFree = count;
    this.owned = new Uint8Array(count);
    this.resolves = new Array(count).fill(undefined);
    this.rejects = new Array(count).fill(undefined);
    this.waiters = new Array(INITIAL_WAITERS).fill(undefined);
    this.park = (resolve, reject) => {
      this.resolves[this.parking] = resolve;
      this.rejects[this.parking] = reject;
    };
    this.enqueue = (resolve) => {
      if (this.nWaiting === this.waiters.length) this.growWaiters();
      this.waiters[(this.waitHead + this.nWaiting) & (this.waiters.length - 1)] = resolve;
      this.nWaiting++;
    };
    this.kickNow = () => {
      this.kickScheduled = false;
      if (!this.isPaused && this.failure === undefined) kick();
    };
  }

  /** Slots free now (while paused they are not handed out). */
  get free(): number {
    return this.nFree;
  }

  /** Callers of `acquire` waiting for a slot. */
  get waiting(): number {
    return this.nWaiting;
  }

  /** Whether handing out slots is paused (between `pause` and `resume`: the device is being reset). */
  get paused(): boolean {
    return this.isPaused;
  }

  /** The error given to `failAll`, or undefined while the slots are usable. */
  get dead(): Error | undefined {
    return this.failure;
  }

  /**
   * A slot: at once if one is free (and not paused), else the next one released, in the
   * order the callers asked. Rejects with the `failAll` error once dead, also for a caller
   * that was waiting.
   */
  async acquire(): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    if (this.nFree > 0 && !this.isPaused) return this.take();
    const slot = await new Promise<number>(this.enqueue);
    if (slot < 0) throw this.failure ?? new KernelError('EIO', 'the request slots were failed');
    return slot;
  }

  /** A free slot without waiting, or -1 when none is free, or handing out is paused, or dead. */
  tryAcquire(): number {
    return this.nFree > 0 && !this.isPaused && this.failure === undefined ? this.take() : -1;
  }

  /**
   * Parks the request on `slot` (which the caller owns) until `complete`, `fail` or `failAll`
   * settles it; call it once the request is on the ring. Once dead, the promise rejects at once.
   *
   * @throws KernelError `EINVAL` when the caller does not own the slot, `EBUSY` when a request
   *   is parked on it already.
   */
  completion(slot: number): Promise<T> {
    if (this.owned[slot] !== 1) throw new KernelError('EINVAL', `RequestSlots.completion(${slot}): the slot is not taken; acquire it first`);
    if (this.resolves[slot] !== undefined) {
      throw new KernelError('EBUSY', `RequestSlots.completion(${slot}): a request is parked on the slot already; complete or fail it first`);
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.parking = slot;
    return new Promise<T>(this.park);
  }

  /** Resolves the request parked on `slot` with `value`; false when none is parked there. */
  complete(slot: number, value: T): boolean {
    const resolve = this.resolves[slot];
    if (resolve === undefined) return false;
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    resolve(value);
    return true;
  }

  /** Rejects the request parked on `slot` with `error`; false when none is parked there. */
  fail(slot: number, error: Error): boolean {
    const reject = this.rejects[slot];
    if (reject === undefined) return false;
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    reject(error);
    return true;
  }

  /**
   * Gives `slot` up: to the first waiter at once (unless paused), else to the free list. A
   * request still parked on the slot stays parked; settle it in the same synchronous step
   * (the waiter's `acquire` returns a microtask later, so it cannot park before that).
   *
   * @throws KernelError `EINVAL` when the slot is not taken (released twice).
   */
  release(slot: number): void {
    if (this.owned[slot] !== 1) throw new KernelError('EINVAL', `RequestSlots.release(${slot}): the slot is not taken (released twice?)`);
    if (!this.isPaused && this.nWaiting > 0) {
      this.wake(slot);
      return;
    }
    this.owned[slot] = 0;
    this.freeList[this.nFree++] = slot;
  }

  /**
   * Stops handing out slots, for a device reset: `acquire` waits, `tryAcquire` gives -1,
   * `release` keeps slots on the free list and scheduled kicks are dropped. A slot released
   * meanwhile is reused only after `resume`, so the device can no longer touch its buffers.
   */
  pause(): void {
    if (this.failure === undefined) this.isPaused = true;
  }

  /** Hands out slots again: the free ones go to the waiters, first come first served. */
  resume(): void {
    if (!this.isPaused || this.failure !== undefined) return;
    this.isPaused = false;
    while (this.nWaiting > 0 && this.nFree > 0) this.wake(this.freeList[--this.nFree]);
  }

  /**
   * The device is gone: rejects every parked request (in slot order) and every waiter (in
   * order) with `error`; from now on `acquire` and `completion` reject with it, `tryAcquire`
   * gives -1 and no kick is made. Only the first call counts.
   */
  failAll(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (let slot = 0; slot < this.capacity; slot++) this.fail(slot, error);
    while (this.nWaiting > 0) this.wake(-1);
  }

  /**
   * Asks for one `kick` at the end of this turn (a microtask): everything submitted meanwhile
   * goes with one notification. Dropped if paused or dead by then.
   */
  scheduleKick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    void Promise.resolve().then(this.kickNow);
  }

  private take(): number {
    const slot = this.freeList[--this.nFree];
    this.owned[slot] = 1;
    return slot;
  }

  /** Hands `slot` (or -1: dead) to the first waiter; the slot has an owner from now on. */
  private wake(slot: number): void {
    const at = this.waitHead;
    const resolve = this.waiters[at] as (slot: number) => void;
    this.waiters[at] = undefined;
    this.waitHead = (at + 1) & (this.waiters.length - 1);
    this.nWaiting--;
    if (slot >= 0) this.owned[slot] = 1;
    resolve(slot);
  }

  private growWaiters(): void {
    const old = this.waiters;
    const grown: Array<((slot: number) => void) | undefined> = new Array(old.length * 2).fill(undefined);
    for (let i = 0; i < this.nWaiting; i++) grown[i] = old[(this.waitHead + i) & (old.length - 1)];
    this.waiters = grown;
    this.waitHead = 0;
  }
}
