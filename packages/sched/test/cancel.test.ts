import { isKernelError, KernelError } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CancelController, Channel, Condition, Mutex, Semaphore, type Thread } from '../src/index.js';
import { Machine, outcome } from './machine.js';

async function codeOf(t: Thread): Promise<string | undefined> {
  const o = await outcome(t);
  if (o.ok) return undefined;
  return isKernelError(o.error) ? o.error.code : String(o.error);
}

describe('cancellation', () => {
  it('ends a sleep with ECANCELED and disarms its timer', async () => {
    const m = new Machine();
    const s = m.sched;
    const sleeper = s.spawn('sleeper', async () => s.sleep(1_000_000));
    s.spawn('killer', async () => {
      await s.sleep(10);
      sleeper.cancel('shutting down');
    });
    await m.settle();
    expect(await codeOf(sleeper)).toBe('ECANCELED');
    await expect(sleeper.done).rejects.toThrow(/sleeper was cancelled: shutting down/);
    expect(m.clock.now()).toBe(10);
    expect(s.stats.timers).toBe(0);
  });

  it('takes a cancelled waiter off the mutex queue; the lock goes to the next one', async () => {
    const m = new Machine();
    const s = m.sched;
    const mu = new Mutex(s, 'disk');
    const order: string[] = [];
    const holder = s.spawn('holder', async () =>
      mu.withLock(async () => {
        await s.sleep(20);
        order.push('holder');
      }),
    );
    const victim = s.spawn('victim', async () => mu.withLock(() => order.push('victim')));
    const next = s.spawn('next', async () => mu.withLock(() => order.push('next')));
    s.spawn('killer', async () => {
      await s.sleep(5);
      expect(mu.waiters).toBe(2);
      victim.cancel();
      expect(mu.waiters).toBe(1);
    });
    await m.settle();
    expect(order).toEqual(['holder', 'next']);
    expect(await codeOf(victim)).toBe('ECANCELED');
    expect(await codeOf(holder)).toBeUndefined();
    expect(await codeOf(next)).toBeUndefined();
    expect(mu.locked).toBe(false);
  });

  it('releases a mutex held through withLock, and one held through bare lock()', async () => {
    for (const style of ['withLock', 'lock'] as const) {
      const m = new Machine();
      const s = m.sched;
      const mu = new Mutex(s, 'table');
      const sem = new Semaphore(s, 0, 'never released');
      const holder = s.spawn('holder', async () => {
        if (style === 'withLock') await mu.withLock(() => sem.acquire());
        else {
          await mu.lock();
          await sem.acquire(); // no finally: the robust release must cover it
          mu.unlock();
        }
      });
      let got = false;
      s.spawn('waiter', async () => {
        await mu.lock();
        got = true;
        mu.unlock();
      });
      s.spawn('killer', async () => {
        await s.sleep(1);
        expect(mu.owner).toBe(holder);
        holder.cancel();
      });
      await m.settle();
      expect(await codeOf(holder)).toBe('ECANCELED');
      expect(got).toBe(true);
      expect(mu.locked).toBe(false);
      expect(sem.waiters).toBe(0);
    }
  });

  it('re-takes the mutex before a cancelled condition wait throws', async () => {
    const m = new Machine();
    const s = m.sched;
    const mu = new Mutex(s, 'q');
    const cond = new Condition(s, 'ready');
    let ownedInCatch = false;
    const waiter = s.spawn('waiter', async (self) => {
      await mu.lock();
      try {
        await cond.wait(mu);
      } catch (e) {
        ownedInCatch = mu.owner === self;
        throw e;
      } finally {
        mu.unlock();
      }
    });
    s.spawn('other', async () => {
      await s.sleep(1);
      await mu.lock(); // free: the waiter gave it up inside wait()
      waiter.cancel();
      await s.sleep(5); // the waiter must wait for the mutex, cancelled or not
      mu.unlock();
    });
    await m.settle();
    expect(ownedInCatch).toBe(true);
    expect(await codeOf(waiter)).toBe('ECANCELED');
    expect(mu.locked).toBe(false);
  });

  it('never starts a thread whose signal is already aborted, and cancels through a host AbortSignal', async () => {
    const m = new Machine();
    const s = m.sched;
    const c = new CancelController();
    c.abort();
    let ran = false;
    const dead = s.spawn('dead', async () => {
      ran = true;
    }, { signal: c.signal });
    expect(dead.state).toBe('exited');
    const host = new AbortController();
    const ch = new Channel<number>(s, 0);
    const reader = s.spawn('reader', async () => ch.recv(), { signal: host.signal });
    s.setTimer(10, () => host.abort(new KernelError('ETIMEDOUT', 'too slow')));
    await m.settle();
    expect(ran).toBe(false);
    expect(await codeOf(dead)).toBe('ECANCELED');
    expect(await codeOf(reader)).toBe('ETIMEDOUT');
    expect(ch.receivers.length).toBe(0);
  });

  it('lets a per-call signal end one wait and leaves the thread usable', async () => {
    const m = new Machine();
    const s = m.sched;
    const sem = new Semaphore(s, 0);
    const log: string[] = [];
    await m.boot(async () => {
      const c = new CancelController();
      s.setTimer(s.clock.now() + 5, () => c.abort('enough'));
      await sem.acquire(c.signal).catch((e) => log.push(e.message));
      await sem.acquire(c.signal).catch((e) => log.push(`again: ${e.code}`));
      sem.release();
      await sem.acquire();
      log.push('acquired');
    });
    expect(log).toEqual(['ECANCELED: wait on semaphore "semaphore" was cancelled: enough', 'again: ECANCELED', 'acquired']);
  });

  it('is sticky: a cancelled running thread fails at its next blocking call, yield included', async () => {
    const m = new Machine();
    const s = m.sched;
    let steps = 0;
    const spinner = s.spawn('spinner', async (self) => {
      for (;;) {
        steps++;
        if (steps === 3) self.cancel();
        await s.yield();
      }
    });
    await m.settle();
    expect(steps).toBe(3);
    expect(await codeOf(spinner)).toBe('ECANCELED');
  });

  it('always releases what cancelled threads held (random programs)', async () => {
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('locked' as const), k: fc.integer({ min: 0, max: 1 }), ns: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('send' as const) }),
      fc.record({ kind: fc.constant('recv' as const) }),
      fc.record({ kind: fc.constant('sleep' as const), ns: fc.integer({ min: 1, max: 6 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { maxLength: 5 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 }), victim: fc.nat() }), { maxLength: 4 }),
        async (programs, kills) => {
          const m = new Machine();
          const s = m.sched;
          const mutexes = [new Mutex(s, 'm0'), new Mutex(s, 'm1')];
          const ch = new Channel<number>(s, 1, 'ch');
          const threads = programs.map((ops, i) =>
            s.spawn(`t${i}`, async () => {
              for (const op of ops) {
                if (op.kind === 'locked') await mutexes[op.k].withLock(() => (op.ns > 0 ? s.sleep(op.ns) : s.yield()));
                else if (op.kind === 'send') await ch.send(i, s.timeout(15));
                else if (op.kind === 'recv') await ch.recv(s.timeout(15));
                else await s.sleep(op.ns);
              }
            }),
          );
          for (const k of kills) s.setTimer(k.at, () => threads[k.victim % threads.length].cancel());
          await m.settle();
          expect(s.stats.threads).toBe(0);
          for (const mu of mutexes) {
            expect(mu.locked).toBe(false);
            expect(mu.waiters).toBe(0);
          }
          for (const t of threads) {
            const o = await outcome(t);
            if (!o.ok) expect(isKernelError(o.error, 'ECANCELED') || isKernelError(o.error, 'ETIMEDOUT')).toBe(true);
            if (!t.cancelled && !o.ok) expect(isKernelError(o.error, 'ETIMEDOUT')).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
