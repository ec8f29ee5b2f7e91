import { isKernelError } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Channel, type Thread } from '../src/index.js';
import { Machine } from './machine.js';

type Pause = { kind: 'none' } | { kind: 'yield' } | { kind: 'sleep'; ns: number };
const pauseArb: fc.Arbitrary<Pause> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.constant({ kind: 'yield' as const }),
  fc.integer({ min: 1, max: 4 }).map((n) => ({ kind: 'sleep' as const, ns: n * 7 })),
);

describe('Channel', () => {
  it('delivers in send order and blocks a sender exactly when full', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.array(pauseArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(pauseArb, { maxLength: 30 }),
        async (capacity, producers, consumerPauses) => {
          const m = new Machine();
          const s = m.sched;
          const ch = new Channel<string>(s, capacity, 'mbox');
          const sendOrder: string[] = [];
          const received: string[] = [];
          const pause = async (p: Pause) => {
            if (p.kind === 'yield') await s.yield();
            else if (p.kind === 'sleep') await s.sleep(p.ns);
          };
          const total = producers.reduce((n, ps) => n + ps.length, 0);
          const senders = producers.map((pauses, i) =>
            s.spawn(`p${i}`, async (self: Thread) => {
              for (let k = 0; k < pauses.length; k++) {
                await pause(pauses[k]);
                const msg = `${i}.${k}`;
                const shouldBlock = ch.length === capacity && ch.receivers.length === 0;
                const before = self.switches;
                sendOrder.push(msg);
                await ch.send(msg);
                expect(self.switches !== before).toBe(shouldBlock);
                expect(ch.length).toBeLessThanOrEqual(capacity);
              }
            }),
          );
          s.spawn('consumer', async () => {
            for (let k = 0; k < total; k++) {
              await pause(consumerPauses[k] ?? { kind: 'none' });
              received.push(await ch.recv());
              expect(ch.length).toBeLessThanOrEqual(capacity);
            }
          });
          await m.settle();
          expect(received).toEqual(sendOrder);
          for (const t of senders) expect(t.state).toBe('exited');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps each producer in order with several consumers, and loses nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 8 }), async (capacity, nProducers, nConsumers, each) => {
        const m = new Machine();
        const s = m.sched;
        const ch = new Channel<[number, number]>(s, capacity);
        const got: [number, number][][] = Array.from({ length: nConsumers }, () => []);
        const producers = Array.from({ length: nProducers }, (_, p) =>
          s.spawn(`p${p}`, async () => {
            for (let i = 0; i < each; i++) {
              await ch.send([p, i]);
              if ((p + i) % 2 === 0) await s.yield();
            }
          }),
        );
        for (let c = 0; c < nConsumers; c++) {
          s.spawn(`c${c}`, async () => {
            for await (const msg of ch) {
              got[c].push(msg);
              if ((c + msg[1]) % 3 === 0) await s.sleep(1);
            }
          });
        }
        s.spawn('closer', async () => {
          for (const p of producers) await p.join();
          ch.close();
        });
        await m.settle();
        expect(s.stats.threads).toBe(0);
        expect(got.flat().length).toBe(nProducers * each);
        for (const mine of got) {
          for (let p = 0; p < nProducers; p++) {
            const seq = mine.filter(([q]) => q === p).map(([, i]) => i);
            expect(seq).toEqual([...seq].sort((a, b) => a - b));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('fails blocked senders with EPIPE at close and lets receivers drain first', async () => {
    const m = new Machine();
    const s = m.sched;
    const ch = new Channel<number>(s, 1);
    const log: string[] = [];
    await m.boot(async () => {
      await ch.send(1);
      const blocked = s.spawn('blocked', async () => {
        await ch.send(2).catch((e) => log.push(`send: ${e.code}`));
      });
      await s.yield();
      ch.close();
      await blocked.join();
      log.push(`recv ${await ch.recv()}`);
      await ch.recv().catch((e) => log.push(`recv: ${e.code}`));
      expect(() => ch.trySend(3)).toThrow(/closed/);
    });
    expect(log).toEqual(['send: EPIPE', 'recv 1', 'recv: EPIPE']);
  });

  it('makes capacity 0 a rendezvous, and lets an interrupt feed it with trySend', async () => {
    const m = new Machine();
    const s = m.sched;
    const ch = new Channel<string>(s, 0);
    const log: string[] = [];
    expect(ch.trySend('nobody listens')).toBe(false);
    s.spawn('rx', async () => {
      log.push(await ch.recv());
      log.push(await ch.recv());
    });
    s.setTimer(10, () => {
      expect(ch.trySend('irq')).toBe(true);
    });
    s.spawn('tx', async () => {
      await s.sleep(20);
      await ch.send('thread');
      log.push('sent');
    });
    await m.settle();
    // The sender meets a waiting receiver, so it hands over and goes on without blocking.
    expect(log).toEqual(['irq', 'sent', 'thread']);
    expect(ch.tryRecv()).toBeUndefined();
  });

  it('rejects a bad capacity', () => {
    const m = new Machine();
    try {
      new Channel(m.sched, -1);
      expect.unreachable();
    } catch (e) {
      expect(isKernelError(e, 'EINVAL')).toBe(true);
    }
  });
});
