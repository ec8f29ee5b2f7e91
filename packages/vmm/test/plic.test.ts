import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Plic } from '../src/devices/plic.js';

const CLAIM = (ctx: number) => 0x20_0000 + 0x1000 * ctx + 4;
const THRESHOLD = (ctx: number) => 0x20_0000 + 0x1000 * ctx;
const ENABLE = (ctx: number, word: number) => 0x2000 + 0x80 * ctx + 4 * word;

function plic() {
  const outputs: boolean[] = [false, false];
  const p = new Plic(96, 2, (ctx, a) => {
    outputs[ctx] = a;
  });
  return { p, outputs };
}

describe('the PLIC', () => {
  it('claims the highest priority source, ties to the lowest ID, and completes', () => {
    const { p, outputs } = plic();
    for (const n of [3, 5, 7]) p.write(4 * n, 4, n === 7 ? 2 : 5);
    p.write(ENABLE(0, 0), 4, (1 << 3) | (1 << 5) | (1 << 7));
    for (const n of [3, 5, 7]) p.setLevel(n, true);
    expect(outputs[0]).toBe(true);
    expect(p.read(CLAIM(0), 4)).toBe(3);
    expect(p.read(CLAIM(0), 4)).toBe(5);
    expect(p.read(CLAIM(0), 4)).toBe(7);
    expect(p.read(CLAIM(0), 4)).toBe(0);
    expect(outputs[0]).toBe(false);
    p.setLevel(3, false);
    p.write(CLAIM(0), 4, 3);
    p.write(CLAIM(0), 4, 5); // still high: pending again
    expect(outputs[0]).toBe(true);
    expect(p.read(CLAIM(0), 4)).toBe(5);
  });

  it('masks sources at or below the threshold and those not enabled', () => {
    const { p, outputs } = plic();
    p.write(4 * 10, 4, 1);
    p.setLevel(10, true);
    expect(outputs[0]).toBe(false);
    p.write(ENABLE(0, 0), 4, 1 << 10);
    expect(outputs[0]).toBe(true);
    p.write(THRESHOLD(0), 4, 1);
    expect(outputs[0]).toBe(false);
    expect(p.read(CLAIM(0), 4)).toBe(0);
    expect(outputs[1]).toBe(false);
  });

  it('agrees with a model of pending, in-service and claims', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('level' as const), n: fc.integer({ min: 1, max: 8 }), v: fc.boolean() }),
            fc.record({ op: fc.constant('claim' as const) }),
            fc.record({ op: fc.constant('complete' as const), n: fc.integer({ min: 1, max: 8 }) }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const { p, outputs } = plic();
          for (let n = 1; n <= 8; n++) p.write(4 * n, 4, 1);
          p.write(ENABLE(0, 0), 4, 0x1fe);
          const level = new Array(9).fill(false);
          const pending = new Array(9).fill(false);
          const inService = new Array(9).fill(false);
          for (const o of ops) {
            if (o.op === 'level') {
              level[o.n] = o.v;
              pending[o.n] = o.v && !inService[o.n];
              p.setLevel(o.n, o.v);
            } else if (o.op === 'claim') {
              const want = pending.findIndex((x, i) => i > 0 && x);
              const got = p.read(CLAIM(0), 4);
              expect(got).toBe(want < 0 ? 0 : want);
              if (want > 0) {
                pending[want] = false;
                inService[want] = true;
              }
            } else {
              p.write(CLAIM(0), 4, o.n);
              inService[o.n] = false;
              if (level[o.n]) pending[o.n] = true;
            }
            expect(outputs[0]).toBe(pending.some((x, i) => i > 0 && x));
          }
        },
      ),
    );
  });
});
