import fc from 'fast-check';
import { isKernelError } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { RequestSlots } from '../src/index.js';

/** Lets every pending microtask (promise reactions, the scheduled kick) run: the end of a turn. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What happened to a promise, recorded by its reactions. */
interface Outcome {
  settled: number;
  value?: number;
  error?: unknown;
}

function watch(p: Promise<number>): Outcome {
  const o: Outcome = { settled: 0 };
  p.then(
    (v) => {
      o.settled++;
      o.value = v;
    },
    (e: unknown) => {
      o.settled++;
      o.error = e;
    },
  );
  return o;
}

describe('RequestSlots: direct cases', () => {
  it('refuses a slot count that is not a whole number from 1 to 65536', () => {
    for (const n of [0, -1, 1.5, 65537, Number.NaN]) {
      expect(() => new RequestSlots(n)).toThrow(/EINVAL/);
    }
    expect(new RequestSlots(65536).capacity).toBe(65536);
  });

  it('hands out every slot once, then makes callers wait in order and wakes them in that order', async () => {
    const slots = new RequestSlots<number>(2);
    const a = await slots.acquire();
    const b = slots.tryAcquire();
    expect(new Set([a, b])).toEqual(new Set([0, 1]));
    expect(slots.tryAcquire()).toBe(-1);
    const order: string[] = [];
    const w1 = slots.acquire().then((s) => order.push(`w1:${s}`));
    const w2 = slots.acquire().then((s) => order.push(`w2:${s}`));
    expect(slots.waiting).toBe(2);
    slots.release(b);
    slots.release(a);
    await Promise.all([w1, w2]);
    expect(order).toEqual([`w1:${b}`, `w2:${a}`]);
    expect(slots.free).toBe(0);
  });

  it('keeps FIFO order across many waiters, also when the waiter ring grows after wrapping', async () => {
    const slots = new RequestSlots<void>(1);
    const s = slots.tryAcquire();
    const order: number[] = [];
    const all: Promise<number>[] = [];
    const wait = (i: number) => all.push(slots.acquire().then(() => order.push(i)));
    for (let i = 0; i < 10; i++) wait(i);
    // Hand the slot along five times (each waiter owns it at once), so the ring's head moves on.
    for (let i = 0; i < 6; i++) slots.release(s);
    // Then enough waiters to make the ring grow while its head is not at the start.
    for (let i = 10; i < 70; i++) wait(i);
    expect(slots.waiting).toBe(64);
    for (let i = 0; i < 64; i++) slots.release(s);
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 70 }, (_, i) => i));
    slots.release(s);
    expect(slots.free).toBe(1);
    expect(slots.waiting).toBe(0);
  });

  it('settles a parked request with complete or fail, once, and says when nothing was parked', async () => {
    const slots = new RequestSlots<number>(2);
    const s = slots.tryAcquire();
    const done = slots.completion(s);
    expect(() => slots.completion(s)).toThrow(/EBUSY/);
    expect(slots.complete(s, 42)).toBe(true);
    expect(slots.complete(s, 43)).toBe(false);
    expect(slots.fail(s, new Error('late'))).toBe(false);
    await expect(done).resolves.toBe(42);
    const again = slots.completion(s);
    expect(slots.fail(s, new Error('device error'))).toBe(true);
    await expect(again).rejects.toThrow('device error');
  });

  it('refuses to park on or release a slot nobody owns', () => {
    const slots = new RequestSlots<void>(2);
    expect(() => slots.completion(0)).toThrow(/EINVAL/);
    expect(() => slots.release(1)).toThrow(/EINVAL/);
    const s = slots.tryAcquire();
    slots.release(s);
    expect(() => slots.release(s)).toThrow(/not taken/);
  });

  it('coalesces the kicks of one turn into one, and drops them while paused or dead', async () => {
    let kicks = 0;
    const slots = new RequestSlots<void>(4, () => kicks++);
    slots.scheduleKick();
    slots.scheduleKick();
    slots.scheduleKick();
    expect(kicks).toBe(0);
    await endOfTurn();
    expect(kicks).toBe(1);
    slots.scheduleKick();
    await endOfTurn();
    expect(kicks).toBe(2);
    slots.scheduleKick();
    slots.pause();
    await endOfTurn();
    expect(kicks).toBe(2);
    slots.resume();
    slots.scheduleKick();
    slots.failAll(new Error('gone'));
    await endOfTurn();
    expect(kicks).toBe(2);
  });

  it('pauses handing out slots during a reset and hands the free ones to the waiters on resume', async () => {
    const slots = new RequestSlots<void>(2);
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    slots.pause();
    const w = watch(slots.acquire());
    slots.release(a);
    expect(slots.tryAcquire()).toBe(-1);
    await endOfTurn();
    expect(w.settled).toBe(0);
    expect(slots.free).toBe(1);
    slots.resume();
    await endOfTurn();
    expect(w.value).toBe(a);
    slots.release(b);
    expect(slots.free).toBe(1);
  });

  it('failAll rejects the parked requests, the waiters and every later acquire with its error', async () => {
    const slots = new RequestSlots<number>(1);
    const s = slots.tryAcquire();
    const parked = slots.completion(s);
    const waiting = slots.acquire();
    const gone = new Error('the disk is gone');
    slots.failAll(gone);
    slots.failAll(new Error('second'));
    await expect(parked).rejects.toBe(gone);
    await expect(waiting).rejects.toBe(gone);
    await expect(slots.acquire()).rejects.toBe(gone);
    expect(slots.tryAcquire()).toBe(-1);
    expect(slots.dead).toBe(gone);
    // The owner of a slot may still try to park on it: it fails at once rather than hang.
    await expect(slots.completion(s)).rejects.toBe(gone);
  });

  it('throws KernelErrors', () => {
    try {
      new RequestSlots(0);
      expect.unreachable();
    } catch (e) {
      expect(isKernelError(e, 'EINVAL')).toBe(true);
    }
  });
});

// --- the model-based test ---------------------------------------------------------------

type Op =
  | { kind: 'acquire' }
  | { kind: 'tryAcquire' }
  | { kind: 'park'; pick: number }
  | { kind: 'complete'; slot: number; value: number }
  | { kind: 'fail'; slot: number }
  | { kind: 'release'; pick: number }
  | { kind: 'releaseFree'; slot: number }
  | { kind: 'kick' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'failAll' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'acquire' as const }), weight: 5 },
  { arbitrary: fc.constant({ kind: 'tryAcquire' as const }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('park' as const), pick: fc.nat(7) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('complete' as const), slot: fc.nat(4), value: fc.integer() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('fail' as const), slot: fc.nat(4) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(7) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('releaseFree' as const), slot: fc.nat(4) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'kick' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'pause' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'resume' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'failAll' as const }), weight: 1 },
);

/** A caller of acquire, and what the model expects of it. */
interface Actor {
  outcome: Outcome;
  /** waiting: queued; exact: handed `slot`; anyOf: handed one of `candidates`; rejected: with the dead error; active: owns `slot`. */
  state: 'waiting' | 'exact' | 'anyOf' | 'rejected' | 'active' | 'done';
  slot: number;
  candidates?: Set<number>;
}

/** A parked request and what the model expects of it. */
interface Parked {
  outcome: Outcome;
  expect: 'pending' | 'resolved' | 'rejected';
  value?: number;
  error?: unknown;
}

async function runModel(capacity: number, turns: Op[][]): Promise<void> {
  let kicks = 0;
  const slots = new RequestSlots<number>(capacity, () => kicks++);
  // The model.
  const free = new Set<number>(Array.from({ length: capacity }, (_, i) => i));
  const owner: Array<Actor | undefined> = new Array(capacity).fill(undefined);
  const waiters: Actor[] = [];
  const anyOf: Actor[] = [];
  const actors: Actor[] = [];
  const parkedOn: Array<Parked | undefined> = new Array(capacity).fill(undefined);
  const allParked: Parked[] = [];
  let paused = false;
  let dead: Error | undefined;
  let kickAsked = false;

  const active = () => actors.filter((a) => a.state === 'active');
  const failOne = (p: Parked, error: unknown) => {
    p.expect = 'rejected';
    p.error = error;
  };
  const killAll = (error: Error) => {
    dead = error;
    for (let s = 0; s < capacity; s++) {
      const p = parkedOn[s];
      if (p !== undefined) failOne(p, error);
      parkedOn[s] = undefined;
    }
    for (const w of waiters.splice(0)) w.state = 'rejected';
  };

  const verifyTurn = async () => {
    await endOfTurn();
    // Kicks: one for a turn that asked, none if paused or dead by its end.
    expect(kicks).toBe(kickAsked && !paused && dead === undefined ? 1 : 0);
    kicks = 0;
    kickAsked = false;
    // Slots handed to callers whose slot the model could not name: one of the free ones, distinct.
    for (const a of anyOf.splice(0)) {
      expect(a.outcome.settled).toBe(1);
      const s = a.outcome.value as number;
      expect(a.candidates?.has(s)).toBe(true);
      expect(free.has(s)).toBe(true);
      expect(owner[s]).toBeUndefined();
      free.delete(s);
      owner[s] = a;
      a.slot = s;
      a.state = 'active';
    }
    for (const a of actors) {
      if (a.state === 'waiting') expect(a.outcome.settled).toBe(0); // no wake-up out of turn
      if (a.state === 'exact') {
        expect(a.outcome).toEqual({ settled: 1, value: a.slot }); // no lost wake-up, FIFO
        a.state = 'active';
      }
      if (a.state === 'rejected') {
        expect(a.outcome.settled).toBe(1);
        expect(a.outcome.error).toBe(dead);
        a.state = 'done';
      }
    }
    for (const p of allParked) {
      if (p.expect === 'pending') expect(p.outcome.settled).toBe(0);
      if (p.expect === 'resolved') expect(p.outcome).toEqual({ settled: 1, value: p.value });
      if (p.expect === 'rejected') expect(p.outcome).toEqual({ settled: 1, error: p.error });
    }
    // Never two owners of one slot; every slot either free or owned.
    for (let s = 0; s < capacity; s++) expect(free.has(s) !== (owner[s] !== undefined)).toBe(true);
    expect(slots.free).toBe(free.size);
    expect(slots.waiting).toBe(waiters.length);
    expect(slots.paused).toBe(paused);
    expect(slots.dead).toBe(dead);
  };

  for (const turn of turns) {
    for (const op of turn) {
      switch (op.kind) {
        case 'acquire': {
          const a: Actor = { outcome: watch(slots.acquire()), state: 'waiting', slot: -1 };
          actors.push(a);
          const anonymous = anyOf.length;
          if (dead !== undefined) a.state = 'rejected';
          else if (!paused && free.size - anonymous > 0) {
            a.state = 'anyOf';
            a.candidates = new Set(free);
            anyOf.push(a);
          } else waiters.push(a);
          break;
        }
        case 'tryAcquire': {
          const s = slots.tryAcquire();
          if (dead !== undefined || paused || free.size - anyOf.length === 0) {
            expect(s).toBe(-1);
            break;
          }
          expect(free.has(s)).toBe(true);
          const a: Actor = { outcome: { settled: 0 }, state: 'active', slot: s };
          actors.push(a);
          free.delete(s);
          owner[s] = a;
          break;
        }
        case 'park': {
          const list = active();
          if (list.length === 0) break;
          const a = list[op.pick % list.length];
          if (parkedOn[a.slot] !== undefined) {
            expect(() => slots.completion(a.slot)).toThrow(/EBUSY/);
            break;
          }
          const p: Parked = { outcome: watch(slots.completion(a.slot)), expect: 'pending' };
          allParked.push(p);
          if (dead !== undefined) failOne(p, dead);
          else parkedOn[a.slot] = p;
          break;
        }
        case 'complete': {
          const s = op.slot % capacity;
          const p = parkedOn[s];
          expect(slots.complete(s, op.value)).toBe(p !== undefined);
          if (p !== undefined) {
            p.expect = 'resolved';
            p.value = op.value;
            parkedOn[s] = undefined;
          }
          break;
        }
        case 'fail': {
          const s = op.slot % capacity;
          const p = parkedOn[s];
          const error = new Error(`request on slot ${s} failed`);
          expect(slots.fail(s, error)).toBe(p !== undefined);
          if (p !== undefined) {
            failOne(p, error);
            parkedOn[s] = undefined;
          }
          break;
        }
        case 'release': {
          const list = active();
          if (list.length === 0) break;
          const a = list[op.pick % list.length];
          slots.release(a.slot);
          a.state = 'done';
          owner[a.slot] = undefined;
          const next = !paused && waiters.shift();
          if (next) {
            next.state = 'exact';
            next.slot = a.slot;
            owner[a.slot] = next;
          } else free.add(a.slot);
          break;
        }
        case 'releaseFree': {
          const s = op.slot % capacity;
          // Only a slot that is free in the model and not about to be handed to an anonymous taker.
          if (!free.has(s) || anyOf.length > 0) break;
          expect(() => slots.release(s)).toThrow(/EINVAL/);
          break;
        }
        case 'kick':
          slots.scheduleKick();
          kickAsked = true;
          break;
        case 'pause':
          slots.pause();
          if (dead === undefined) paused = true;
          break;
        case 'resume': {
          slots.resume();
          if (!paused || dead !== undefined) break;
          paused = false;
          const candidates = new Set(free);
          let room = free.size - anyOf.length;
          while (room > 0 && waiters.length > 0) {
            const w = waiters.shift() as Actor;
            w.state = 'anyOf';
            w.candidates = candidates;
            anyOf.push(w);
            room--;
          }
          break;
        }
        case 'failAll': {
          const error = new Error('the device is gone');
          slots.failAll(error);
          if (dead === undefined) killAll(error);
          break;
        }
      }
      // What the model knows at once.
      expect(slots.free).toBe(free.size - anyOf.length);
      expect(slots.waiting).toBe(waiters.length);
    }
    await verifyTurn();
  }
  // In the end every parked request and every waiter settles.
  if (dead === undefined) {
    const error = new Error('shut down');
    slots.failAll(error);
    killAll(error);
  }
  await verifyTurn();
  for (const p of allParked) expect(p.outcome.settled).toBe(1);
  expect(actors.filter((a) => a.state === 'waiting' || a.state === 'exact' || a.state === 'anyOf')).toEqual([]);
}

describe('RequestSlots against a model', () => {
  it('never gives one slot two owners, wakes waiters in order without losing one, settles every parked request once, and kicks once per turn', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 25 }), (capacity, turns) =>
        runModel(capacity, turns),
      ),
      { numRuns: Number(process.env.UK_FUZZ_CASES ?? 300) },
    );
  });
});
