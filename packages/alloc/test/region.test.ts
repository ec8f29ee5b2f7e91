import { isKernelError } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, RegionAllocator } from '../src/index.js';
import { expectError } from './expect-error.js';
import { FUZZ_CASES } from './fuzz-cases.js';

const KiB = 1024;
const RAM = 0x8000_0000;

describe('RegionAllocator', () => {
  it('bumps through the regions first fit, aligned', () => {
    const r = new RegionAllocator([
      { base: RAM, size: 8 * KiB },
      { base: RAM + 64 * KiB, size: 64 * KiB },
    ]);
    expect(r.alloc(100)).toBe(RAM);
    expect(r.alloc(16)).toBe(RAM + 112);
    expect(r.allocFrames(4 * KiB)).toBe(RAM + 4 * KiB);
    expect(r.allocFrames(4 * KiB)).toBe(RAM + 64 * KiB);
    expect(r.alloc(16)).toBe(RAM + 68 * KiB); // the first region is full
    expect(r.alloc(1, 32 * KiB)).toBe(RAM + 96 * KiB);
    expect(r.stats().liveAllocations).toBe(6);
  });

  it('free is a no-op that checks the address was handed out', () => {
    const r = new RegionAllocator([{ base: RAM, size: 64 * KiB }]);
    const a = r.alloc(100);
    const f = r.allocFrames(8 * KiB);
    const before = r.stats();
    r.free(a);
    r.free(a);
    r.freeFrames(f, 8 * KiB);
    expect(r.stats()).toEqual(before);
    expectError(() => r.free(RAM + 32 * KiB), 'EINVAL', /0x80008000.*past what the region allocator has handed out/);
    expectError(() => r.freeFrames(f, 16 * KiB), 'EINVAL', new RegExp(`${hex(f)}.*past`));
    expectError(() => r.freeFrames(f + 16, 4 * KiB), 'EINVAL', /not a multiple of 4096/);
    expectError(() => r.free(0x100), 'EFAULT', /0x100.*not in memory/);
  });

  it('reports exhaustion as ENOMEM', () => {
    const r = new RegionAllocator([{ base: RAM, size: 4 * KiB }]);
    r.alloc(4000);
    expectError(() => r.alloc(200), 'ENOMEM', /cannot allocate 200 B aligned to 16 B: 96 B free/);
  });

  it('against a model: no overlap, alignment, exact used bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 16, max: 64 * KiB }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ bytes: fc.integer({ min: 1, max: 20 * KiB }), align: fc.constantFrom(16, 64, 4096, 16 * KiB) }), { maxLength: 60 }),
        (sizes, requests) => {
          let at = 2 ** 52;
          const regions = sizes.map((s) => {
            const r = { base: at, size: Math.floor(s / 16) * 16 };
            at += r.size + 4096;
            return r;
          });
          const r = new RegionAllocator(regions);
          const live: [number, number][] = [];
          for (const q of requests) {
            try {
              const pa = r.alloc(q.bytes, q.align);
              const size = Math.ceil(q.bytes / 16) * 16;
              expect(pa % q.align).toBe(0);
              expect(regions.some((g) => pa >= g.base && pa + size <= g.base + g.size)).toBe(true);
              for (const [s, n] of live) expect(pa + size <= s || s + n <= pa).toBe(true);
              live.push([pa, size]);
            } catch (e) {
              expect(isKernelError(e, 'ENOMEM')).toBe(true);
            }
            expect(r.freeBytes + r.usedBytes).toBe(r.totalBytes);
          }
        },
      ),
      { numRuns: FUZZ_CASES },
    );
  });
});
