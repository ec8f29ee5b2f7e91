import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Condition, Event, Mutex, Semaphore } from '../src/index.js';
import { Machine } from './machine.js';

type Step = { kind: 'yield' } | { kind: 'sleep'; ns: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'yield' as const }),
  fc.integer({ min: 1, max: 3 }).map((n) => ({ kind: 'sleep' as const, ns: n * 5 })),
);
/** A critical section on a set of mutexes (taken in index order, so no deadlock), with steps inside and before. */
const sectionArb = fc.record({
  before: fc.array(stepArb, { maxLength: 2 }),
  locks: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 2 }).map((a) => a.sort()),
  inside: fc.array(stepArb, { maxLength: 3 }),
});
const threadArb = fc.record({ priority: fc.constantFrom(8, 16, 24), sections: fc.array(sectionArb, { maxLength: 3 }) });

describe('Mutex', () => {
  it('admits one thread at a time, in the order they asked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(threadArb, { minLength: 1, maxLength: 6 }), fc.boolean(), async (threads, useWithLock) => {
        const m = new Machine();
        const s = m.sched;
        const mutexes = [0, 1, 2].map((i) => new Mutex(s, `m${i}`));
        const inside = [0, 0, 0];
        const requests: number[][] = [[], [], []];
        const grants: number[][] = [[], [], []];
        const step = async (st: Step) => (st.kind === 'yield' ? s.yield() : s.sleep(st.ns));
        const enter = async (id: number, locks: number[], depth: number, body: () => Promise<void>): Promise<void> => {
          if (depth === locks.length) return body();
          const k = locks[depth];
          requests[k].push(id);
          const critical = async () => {
            grants[k].push(id);
            expect(mutexes[k].owner?.id).toBe(id);
            inside[k]++;
            expect(inside[k]).toBe(1);
            await enter(id, locks, depth + 1, body);
            inside[k]--;
          };
          if (useWithLock) return mutexes[k].withLock(critical);
          await mutexes[k].lock();
          try {
            await critical();
          } finally {
            mutexes[k].unlock();
          }
        };
        const spawned = threads.map((spec, i) =>
          s.spawn(
            `t${i}`,
            async (self) => {
              for (const sec of spec.sections) {
                for (const st of sec.before) await step(st);
                await enter(self.id, sec.locks, 0, async () => {
                  for (const st of sec.inside) await step(st);
                });
              }
            },
            { priority: spec.priority },
          ),
        );
        await m.settle();
        for (const t of spawned) expect(t.state).toBe('exited');
        for (const t of spawned) await t.done;
        for (let k = 0; k < 3; k++) {
          expect(grants[k]).toEqual(requests[k]);
          expect(mutexes[k].locked).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a second lock by its owner and an unlock by another thread', async () => {
    const m = new Machine();
    const mu = new Mutex(m.sched, 'fs');
    const codes: string[] = [];
    await m.boot(async () => {
      await mu.lock();
      await mu.lock().catch((e) => codes.push(e.code));
      const other = m.sched.spawn('other', async () => {
        try {
          mu.unlock();
        } catch (e) {
          codes.push((e as { code: string }).code);
        }
      });
      await other.join();
      mu.unlock();
    });
    expect(codes).toEqual(['EDEADLK', 'EPERM']);
    expect(mu.locked).toBe(false);
  });
});

describe('Semaphore', () => {
  it('loses no release, whether it comes from a thread or an interrupt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 50 }), fromTimer: fc.boolean() }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 3 }),
        async (wants, releases, initial) => {
          const m = new Machine();
          const s = m.sched;
          const sem = new Semaphore(s, initial, 'items');
          const total = wants.reduce((a, b) => a + b, 0);
          // Enough releases to satisfy every acquire, spread in time and between contexts.
          const plan = [...releases];
          while (initial + plan.length < total) plan.push({ at: plan.length * 3, fromTimer: plan.length % 2 === 0 });
          let got = 0;
          const acquirers = wants.map((n, i) =>
            s.spawn(`acq${i}`, async () => {
              for (let k = 0; k < n; k++) {
                await sem.acquire();
                got++;
              }
            }),
          );
          for (const r of plan) {
            if (r.fromTimer) s.setTimer(r.at, () => sem.release());
            else
              s.spawn('rel', async () => {
                await s.sleep(r.at);
                sem.release();
              });
          }
          await m.settle();
          expect(got).toBe(total);
          for (const a of acquirers) expect(a.state).toBe('exited');
          expect(sem.value).toBe(initial + plan.length - total);
          expect(sem.waiters).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('serves waiters in arrival order', async () => {
    const m = new Machine();
    const sem = new Semaphore(m.sched, 0);
    const order: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      m.sched.spawn(name, async () => {
        await sem.acquire();
        order.push(name);
      });
    }
    m.sched.spawn('releaser', async () => {
      await m.sched.sleep(10);
      sem.release(3);
    });
    await m.settle();
    expect(order).toEqual(['a', 'b', 'c']);
  });
});

describe('Event', () => {
  it('keeps an auto-reset set that arrives before the wait', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 10 }), fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 10 }), async (setAt, pauses) => {
        const m = new Machine();
        const s = m.sched;
        const ev = new Event(s, { autoReset: true, name: 'irq' });
        // Each set comes from a timer (interrupt context) and is answered before the next.
        let handled = 0;
        const sorted = [...setAt].sort((a, b) => a - b);
        let armed = 0;
        const armNext = (): void => {
          if (armed < sorted.length) {
            const at = Math.max(sorted[armed], m.clock.now() + 1);
            armed++;
            s.setTimer(at, () => ev.set());
          }
        };
        armNext();
        const driver = s.spawn('driver', async () => {
          for (let i = 0; i < sorted.length; i++) {
            const pause = pauses[i] ?? 0;
            if (pause > 0) await s.sleep(pause);
            await ev.wait();
            handled++;
            armNext();
          }
        });
        await m.settle();
        expect(handled).toBe(sorted.length);
        expect(driver.state).toBe('exited');
      }),
      { numRuns: 100 },
    );
  });

  it('releases every waiter when a manual-reset event is set, and stays set', async () => {
    const m = new Machine();
    const ev = new Event(m.sched);
    const woke: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      m.sched.spawn(name, async () => {
        await ev.wait();
        woke.push(name);
      });
    }
    m.sched.setTimer(5, () => ev.set());
    await m.settle();
    expect(woke).toEqual(['a', 'b', 'c']);
    expect(ev.isSet).toBe(true);
    m.sched.spawn('late', async () => {
      await ev.wait();
      woke.push('late');
    });
    await m.settle();
    expect(woke).toEqual(['a', 'b', 'c', 'late']);
  });
});

describe('Condition', () => {
  it('hands items from producers to consumers without losing a wake-up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), async (producers, consumers, perProducer, broadcast) => {
        const m = new Machine();
        const s = m.sched;
        const mu = new Mutex(s, 'queue');
        const nonEmpty = new Condition(s, 'non-empty');
        const queue: number[] = [];
        const total = producers * perProducer;
        let taken = 0;
        const consumed: number[] = [];
        for (let p = 0; p < producers; p++) {
          s.spawn(`producer${p}`, async () => {
            for (let i = 0; i < perProducer; i++) {
              await s.sleep(1 + ((p + i) % 3));
              await mu.withLock(() => {
                queue.push(p * 100 + i);
                if (broadcast) nonEmpty.broadcast();
                else nonEmpty.signal();
              });
            }
          });
        }
        for (let c = 0; c < consumers; c++) {
          s.spawn(`consumer${c}`, async () => {
            for (;;) {
              await mu.lock();
              try {
                while (queue.length === 0 && taken < total) await nonEmpty.wait(mu);
                if (taken === total) return;
                consumed.push(queue.shift() as number);
                taken++;
                if (taken === total) nonEmpty.broadcast();
              } finally {
                mu.unlock();
              }
            }
          });
        }
        await m.settle();
        expect(consumed.length).toBe(total);
        expect(s.stats.threads).toBe(0);
        expect([...consumed].sort((a, b) => a - b)).toEqual(
          Array.from({ length: producers }, (_, p) => Array.from({ length: perProducer }, (_, i) => p * 100 + i)).flat().sort((a, b) => a - b),
        );
      }),
      { numRuns: 100 },
    );
  });
});
