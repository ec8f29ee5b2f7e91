import { describe, expect, it } from 'vitest';
import { Channel, Mutex } from '../src/index.js';
import { Machine } from './machine.js';

describe('dump and deadlocks', () => {
  it('shows a lock-order deadlock as a cycle in the waits-for graph', async () => {
    const m = new Machine();
    const s = m.sched;
    const A = new Mutex(s, 'A');
    const B = new Mutex(s, 'B');
    s.spawn('a', async () => {
      await A.lock();
      await s.sleep(10);
      await B.lock();
    });
    s.spawn('b', async () => {
      await B.lock();
      await s.sleep(10);
      await A.lock();
    });
    await m.settle();
    const cycles = s.deadlocks();
    expect(cycles.map((c) => c.map((t) => t.name))).toEqual([['a', 'b']]);
    const dump = s.dump();
    expect(dump).toContain('deadlock: #1 a -> #2 b -> #1 a');
    expect(dump).toMatch(/1 {2}a +16 {2}blocked {2}mutex "B" held by #2 b/);
    expect(dump).toMatch(/2 {2}b +16 {2}blocked {2}mutex "A" held by #1 a/);
    const a = s.threads()[0];
    expect(a).toMatchObject({ id: 1, name: 'a', state: 'blocked', waitsOn: 'mutex "B"', waitsFor: 2, wakeAt: null });
  });

  it('finds a cycle through joins and mutexes, and none where a thread merely waits on a channel', async () => {
    const m = new Machine();
    const s = m.sched;
    const mu = new Mutex(s, 'log');
    const ch = new Channel<number>(s, 0, 'requests');
    s.spawn('idle-server', async () => ch.recv());
    const holder = s.spawn('holder', async () => {
      await mu.lock();
      await s.sleep(5);
      // holder waits for joiner, which waits for the mutex holder holds.
      await joiner.join();
    });
    const joiner = s.spawn('joiner', async () => {
      await s.sleep(1);
      await mu.lock();
    });
    await m.settle();
    expect(holder.state).toBe('blocked');
    const dump = s.dump();
    expect(dump).toContain('deadlock: #2 holder -> #3 joiner -> #2 holder');
    expect(dump).toContain('join "#3 joiner" held by #3 joiner');
    expect(dump).toMatch(/idle-server +16 {2}blocked {2}channel\.recv "requests"\s/);
    expect(s.deadlocks()).toHaveLength(1);
  });

  it('reports no deadlock while threads only sleep or wait on each other without a cycle', async () => {
    const m = new Machine();
    const s = m.sched;
    const mu = new Mutex(s, 'm');
    s.spawn('owner', async () => mu.withLock(() => s.sleep(100)));
    s.spawn('waiter', async () => mu.withLock(() => {}));
    await new Promise((r) => setImmediate(r));
    expect(s.deadlocks()).toEqual([]);
    const dump = s.dump();
    expect(dump).not.toContain('deadlock');
    expect(dump).toContain('timer at 100ns');
    expect(dump).toMatch(/^sched: 2 threads \(0 running, 0 runnable, 1 blocked, 1 sleeping\)/);
    await m.settle();
    expect(s.threads()).toEqual([]);
  });

  it('accounts switches and run time per thread', async () => {
    const m = new Machine();
    const s = m.sched;
    // Work is simulated by moving the virtual clock while the thread holds the CPU.
    const work = (ns: number) => m.clock.advanceTo(m.clock.now() + ns);
    const a = s.spawn('a', async () => {
      work(100);
      await s.yield();
      work(50);
      await s.sleep(1000);
      work(7);
    });
    const b = s.spawn('b', async () => {
      work(30);
      await s.yield();
      const self = s.threads().find((t) => t.name === 'b');
      expect(self).toMatchObject({ state: 'running', switches: 2 });
    });
    await m.settle();
    expect(a.runTime).toBe(157);
    expect(b.runTime).toBe(30);
    expect(a.switches).toBe(3);
    expect(b.switches).toBe(2);
  });

  it('runs others while a thread waits for an outside promise with waitFor', async () => {
    const m = new Machine();
    const s = m.sched;
    let resolve!: (v: string) => void;
    const outside = new Promise<string>((r) => {
      resolve = r;
    });
    const log: string[] = [];
    const waiter = s.spawn('waiter', async () => {
      log.push(`got ${await s.waitFor(outside)}`);
    });
    s.spawn('worker', async () => {
      log.push('worker runs');
      expect(s.threads()[0]).toMatchObject({ state: 'blocked', waitsOn: 'promise "waitFor"' });
      resolve('device data');
    });
    await m.settle();
    expect(log).toEqual(['worker runs', 'got device data']);
    expect(waiter.state).toBe('exited');
  });
});
