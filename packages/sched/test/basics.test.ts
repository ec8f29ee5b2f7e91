import { isKernelError } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { Priority } from '../src/index.js';
import { Machine, outcome } from './machine.js';

describe('threads', () => {
  it('runs main as the first thread and gives its result', async () => {
    const m = new Machine();
    const main = await m.boot(async (self) => {
      expect(m.sched.current).toBe(self);
      expect(self.state).toBe('running');
      return 42;
    });
    expect(main.state).toBe('exited');
    expect(await main.done).toBe(42);
    expect(m.sched.current).toBeNull();
  });

  it('starts threads in spawn order, after the spawner blocks', async () => {
    const m = new Machine();
    const trace: string[] = [];
    await m.boot(async () => {
      const a = m.sched.spawn('a', async () => trace.push('a'));
      const b = m.sched.spawn('b', async () => trace.push('b'));
      trace.push('main');
      await a.join();
      await b.join();
      trace.push('joined');
    });
    expect(trace).toEqual(['main', 'a', 'b', 'joined']);
  });

  it('join gives the value of exit() and rethrows a failure', async () => {
    const m = new Machine();
    const errors: unknown[] = [];
    const m2 = new Machine({ onError: (e) => errors.push(e) });
    const main = await m.boot(async () => {
      const early = m.sched.spawn('early', async () => {
        m.sched.exit('early value');
        return 'never';
      });
      const failing = m.sched.spawn('failing', async () => {
        throw new Error('boom');
      });
      const v = await early.join();
      let caught: unknown;
      try {
        await failing.join();
      } catch (e) {
        caught = e;
      }
      return [v, (caught as Error).message];
    });
    expect(await main.done).toEqual(['early value', 'boom']);
    // A failure nobody joins is reported.
    await m2.boot(async () => {
      m2.sched.spawn('orphan', async () => {
        throw new Error('lost');
      });
    });
    expect(errors.map((e) => (e as Error).message)).toEqual(['lost']);
  });

  it('round-robins yield within a priority', async () => {
    const m = new Machine();
    const trace: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      m.sched.spawn(name, async () => {
        for (let i = 0; i < 3; i++) {
          trace.push(`${name}${i}`);
          await m.sched.yield();
        }
      });
    }
    await m.settle();
    expect(trace).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  });

  it('runs higher priorities first and lets them keep the CPU across yield', async () => {
    const m = new Machine();
    const trace: string[] = [];
    const body = (name: string) => async () => {
      for (let i = 0; i < 2; i++) {
        trace.push(`${name}${i}`);
        await m.sched.yield();
      }
    };
    m.sched.spawn('low', body('low'), { priority: Priority.Low });
    m.sched.spawn('high', body('high'), { priority: Priority.High });
    m.sched.spawn('normal', body('normal'));
    await m.settle();
    expect(trace).toEqual(['high0', 'high1', 'normal0', 'normal1', 'low0', 'low1']);
  });

  it('refuses a bad priority and blocking calls outside a thread', async () => {
    const m = new Machine();
    expect(() => m.sched.spawn('x', async () => 0, { priority: 32 })).toThrow(/out of range/);
    expect(() => m.sched.sleep(10)).toThrow(/must be called from a thread/);
    try {
      m.sched.sleep(10);
    } catch (e) {
      expect(isKernelError(e, 'EPERM')).toBe(true);
    }
  });

  it('counts switches per thread', async () => {
    const m = new Machine();
    const a = m.sched.spawn('a', async () => {
      for (let i = 0; i < 4; i++) await m.sched.yield();
    });
    const b = m.sched.spawn('b', async () => {
      for (let i = 0; i < 4; i++) await m.sched.yield();
    });
    await m.settle();
    expect(a.switches).toBe(5);
    expect(b.switches).toBe(5);
    expect(m.sched.stats.switches).toBe(10);
    expect((await outcome(a)).ok).toBe(true);
  });
});
