import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';
import { TimerHeap } from '../src/timer/heap.js';
import { Machine } from './machine.js';

describe('TimerHeap', () => {
  it('pops in (deadline, insertion) order under random inserts and removals', () => {
    const opArb = fc.oneof(
      fc.integer({ min: 0, max: 20 }).map((d) => ({ kind: 'insert' as const, d })),
      fc.nat().map((i) => ({ kind: 'remove' as const, i })),
      fc.constant({ kind: 'pop' as const }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const heap = new TimerHeap<number>();
        const model: { d: number; id: number; slot: number }[] = [];
        let id = 0;
        for (const op of ops) {
          if (op.kind === 'insert') {
            const slot = heap.insert(op.d, id);
            model.push({ d: op.d, id: id++, slot });
          } else if (op.kind === 'remove' && model.length > 0) {
            const [gone] = model.splice(op.i % model.length, 1);
            heap.remove(gone.slot);
          } else if (op.kind === 'pop' && model.length > 0) {
            model.sort((a, b) => a.d - b.d || a.id - b.id);
            expect(heap.top).toBe(model[0].d);
            expect(heap.pop()).toBe(model.shift()?.id);
          }
          expect(heap.size).toBe(model.length);
        }
        model.sort((a, b) => a.d - b.d || a.id - b.id);
        for (const m of model) expect(heap.pop()).toBe(m.id);
        expect(heap.top).toBe(Number.POSITIVE_INFINITY);
      }),
      { numRuns: 300 },
    );
  });
});

describe('timers', () => {
  it('wake sleepers in deadline order, never early, with one wake-up per distinct deadline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }), async (plans) => {
        const m = new Machine();
        const s = m.sched;
        let armed = 0;
        const wakes: { deadline: number; seq: number; at: number }[] = [];
        const deadlines = new Set<number>();
        plans.forEach((plan, i) => {
          s.spawn(`t${i}`, async () => {
            for (const ns of plan) {
              const deadline = s.clock.now() + ns;
              const seq = armed++;
              if (ns > 0) deadlines.add(deadline);
              await s.sleep(ns);
              if (ns > 0) wakes.push({ deadline, seq, at: s.clock.now() });
            }
          });
        });
        await m.settle();
        for (const w of wakes) {
          expect(w.at).toBeGreaterThanOrEqual(w.deadline);
          // Virtual time jumps straight to each deadline: not late either.
          expect(w.at).toBe(w.deadline);
        }
        const expected = [...wakes].sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
        expect(wakes).toEqual(expected);
        expect(m.wakeups).toBe(deadlines.size);
        expect(m.clock.deadline).toBe(Number.POSITIVE_INFINITY);
      }),
      { numRuns: 150 },
    );
  });

  it('ignores an early interrupt and re-arms the same deadline', async () => {
    const m = new Machine();
    const s = m.sched;
    let woke = -1;
    s.spawn('sleeper', async () => {
      await s.sleep(100);
      woke = s.clock.now();
    });
    await new Promise((r) => setImmediate(r));
    expect(m.clock.deadline).toBe(100);
    // A spurious interrupt: the handler runs at t=60, before the deadline.
    m.clock.setDeadline(60);
    m.clock.advanceTo(60);
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(-1);
    expect(m.clock.deadline).toBe(100);
    await m.settle();
    expect(woke).toBe(100);
  });

  it('runs callback timers in order, and a cancelled one never', async () => {
    const m = new Machine();
    const s = m.sched;
    const fired: string[] = [];
    s.setTimer(30, () => fired.push('c30'));
    s.setTimer(10, () => fired.push('a10'));
    const doomed = s.setTimer(20, () => fired.push('never'));
    s.setTimer(10, () => fired.push('b10'));
    expect(m.clock.deadline).toBe(10);
    expect(doomed.cancel()).toBe(true);
    expect(doomed.cancel()).toBe(false);
    await m.settle();
    expect(fired).toEqual(['a10', 'b10', 'c30']);
    expect(m.wakeups).toBe(2);
  });

  it('disarms the clock when the last timer goes, so the idle loop sleeps until an interrupt', async () => {
    const m = new Machine();
    const s = m.sched;
    const h = s.setTimer(50, () => {});
    expect(m.clock.deadline).toBe(50);
    h.cancel();
    expect(m.clock.deadline).toBe(Number.POSITIVE_INFINITY);
    const forever = s.spawn('forever', async () => s.sleepUntil(Number.POSITIVE_INFINITY));
    await m.settle();
    expect(forever.state).toBe('sleeping');
    expect(m.wakeups).toBe(0);
    forever.cancel();
    await m.settle();
    expect(forever.state).toBe('exited');
  });

  it('bounds a wait with a timeout signal (ETIMEDOUT) and clears the timer when done', async () => {
    const m = new Machine();
    const s = m.sched;
    const ch = new Channel<number>(s, 1);
    const log: string[] = [];
    await m.boot(async () => {
      const t0 = s.clock.now();
      await ch.recv(s.timeout(25)).catch((e) => log.push(`${e.code} after ${s.clock.now() - t0}`));
      const signal = s.timeout(1000);
      s.spawn('feeder', async () => {
        await s.sleep(5);
        await ch.send(7);
      });
      log.push(`got ${await ch.recv(signal)}`);
      signal.clear();
      expect(s.stats.timers).toBe(0);
    });
    expect(log).toEqual(['ETIMEDOUT after 25', 'got 7']);
  });

  it('treats a deadline already past as a yield', async () => {
    const m = new Machine();
    const s = m.sched;
    const trace: string[] = [];
    s.spawn('a', async () => {
      trace.push('a1');
      await s.sleepUntil(-5);
      trace.push('a2');
    });
    s.spawn('b', async () => {
      trace.push('b1');
      await s.sleep(0);
      trace.push('b2');
    });
    await m.settle();
    expect(trace).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(m.wakeups).toBe(0);
  });
});
