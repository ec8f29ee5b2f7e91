import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressMap } from '../src/table/address-map.js';
import { FUZZ_CASES } from './fuzz-cases.js';

describe('AddressMap', () => {
  it('behaves like a Map under random set/delete/get, including probe runs that wrap', () => {
    const key = fc.oneof(
      fc.integer({ min: 0, max: 200 }).map((k) => 0x8000_0000 + k * 16),
      fc.integer({ min: 0, max: 50 }).map((k) => 2 ** 52 + k * 4096),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, value: fc.nat(1_000_000) }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('get' as const), key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const map = new AddressMap(4);
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            map.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            expect(map.delete(o.key)).toBe(model.get(o.key) ?? -1);
            model.delete(o.key);
          } else {
            expect(map.get(o.key)).toBe(model.get(o.key) ?? -1);
          }
          expect(map.size).toBe(model.size);
        }
        for (const [k, v] of model) expect(map.get(k)).toBe(v);
      }),
      { numRuns: FUZZ_CASES },
    );
  });
});
