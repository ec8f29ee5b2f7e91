import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Channel, Mutex } from '../src/index.js';
import { Machine } from './machine.js';

/** A thread of a random program: its priority and what it does, step by step. */
interface Spec {
  priority: number;
  ops: Op[];
}
type Op = { kind: 'yield' } | { kind: 'sleep'; ns: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'yield' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => ({ kind: 'sleep' as const, ns: n * 10 })) },
);
const specArb: fc.Arbitrary<Spec> = fc.record({
  priority: fc.constantFrom(4, 16, 16, 16, 28),
  ops: fc.array(opArb, { maxLength: 6 }),
});
const programArb = fc.array(specArb, { minLength: 1, maxLength: 6 });

/**
 * The scheduling policy written as plainly as possible: one FIFO per priority, highest first;
 * yield goes to the back if anyone of the same or higher priority is waiting; sleepers wake
 * in (deadline, order of sleeping) and join the back of their queue; time only moves when
 * nothing can run.
 */
function model(specs: Spec[]): string[] {
  const trace: string[] = [];
  const queues = new Map<number, number[]>();
  const pc = specs.map(() => 0);
  const push = (i: number): void => {
    const p = specs[i].priority;
    if (!queues.has(p)) queues.set(p, []);
    queues.get(p)?.push(i);
  };
  const ready = (min: number): boolean => [...queues.entries()].some(([p, q]) => p >= min && q.length > 0);
  const pop = (): number | undefined => {
    const ps = [...queues.keys()].sort((a, b) => b - a);
    for (const p of ps) {
      const q = queues.get(p) as number[];
      if (q.length > 0) return q.shift();
    }
    return undefined;
  };
  let now = 0;
  let seq = 0;
  const timers: { at: number; seq: number; i: number }[] = [];
  specs.forEach((_, i) => push(i));
  for (;;) {
    let i = pop();
    if (i === undefined) {
      if (timers.length === 0) return trace;
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      now = timers[0].at;
      while (timers.length > 0 && timers[0].at <= now) push((timers.shift() as { i: number }).i);
      continue;
    }
    // Run thread i until it gives the CPU away.
    for (;;) {
      const op = specs[i].ops[pc[i]];
      if (op === undefined) break;
      trace.push(`${i}.${pc[i]}`);
      pc[i]++;
      if (op.kind === 'yield' || now + op.ns <= now) {
        if (ready(specs[i].priority)) {
          push(i);
          break;
        }
      } else {
        timers.push({ at: now + op.ns, seq: seq++, i });
        break;
      }
    }
    i = undefined;
  }
}

async function run(specs: Spec[]): Promise<string[]> {
  const m = new Machine();
  const trace: string[] = [];
  specs.forEach((spec, i) => {
    m.sched.spawn(
      `t${i}`,
      async () => {
        for (let k = 0; k < spec.ops.length; k++) {
          trace.push(`${i}.${k}`);
          const op = spec.ops[k];
          if (op.kind === 'yield') await m.sched.yield();
          else await m.sched.sleep(op.ns);
        }
      },
      { priority: spec.priority },
    );
  });
  await m.settle();
  return trace;
}

describe('run queue', () => {
  it('follows the model: FIFO within a priority, higher first, sleepers in deadline order', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (specs) => {
        expect(await run(specs)).toEqual(model(specs));
      }),
      { numRuns: 200 },
    );
  });

  it('gives each runnable thread of a priority exactly one turn per round', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 10 }), async (threads, rounds) => {
        const m = new Machine();
        const turns: number[] = [];
        for (let i = 0; i < threads; i++) {
          m.sched.spawn(`t${i}`, async () => {
            for (let r = 0; r < rounds; r++) {
              turns.push(i);
              await m.sched.yield();
            }
          });
        }
        await m.settle();
        // Every window of `threads` consecutive turns holds each thread once.
        for (let start = 0; start + threads <= turns.length; start += threads) {
          expect(new Set(turns.slice(start, start + threads)).size).toBe(threads);
        }
        expect(turns.length).toBe(threads * rounds);
      }),
      { numRuns: 50 },
    );
  });

  it('gives the same interleaving for the same program', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (specs) => {
        expect(await run(specs)).toEqual(await run(specs));
      }),
      { numRuns: 50 },
    );
  });

  it('replays a program of locks, channels, sleeps and yields identically', async () => {
    const opArb = fc.oneof(
      fc.constant('yield' as const),
      fc.constant('lock' as const),
      fc.constant('send' as const),
      fc.constant('recv' as const),
      fc.integer({ min: 1, max: 5 }),
    );
    const program = fc.array(fc.record({ priority: fc.constantFrom(8, 16), ops: fc.array(opArb, { maxLength: 8 }) }), { minLength: 1, maxLength: 5 });
    const replay = async (threads: { priority: number; ops: ('yield' | 'lock' | 'send' | 'recv' | number)[] }[]) => {
      const m = new Machine();
      const s = m.sched;
      const mu = new Mutex(s);
      const ch = new Channel<number>(s, 1);
      const trace: string[] = [];
      threads.forEach((spec, i) =>
        s.spawn(
          `t${i}`,
          async () => {
            for (const op of spec.ops) {
              trace.push(`${s.clock.now()} t${i} ${op}`);
              if (op === 'yield') await s.yield();
              else if (op === 'lock') await mu.withLock(() => s.yield());
              else if (op === 'send') await ch.send(i, s.timeout(20)).catch(() => trace.push(`t${i} send timed out`));
              else if (op === 'recv') trace.push(`t${i} got ${await ch.recv(s.timeout(20)).catch(() => 'nothing')}`);
              else await s.sleep(op);
            }
          },
          { priority: spec.priority },
        ),
      );
      await m.settle();
      return trace;
    };
    await fc.assert(
      fc.asyncProperty(program, async (threads) => {
        expect(await replay(threads)).toEqual(await replay(threads));
      }),
      { numRuns: 50 },
    );
  });
});
