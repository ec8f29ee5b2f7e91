import { isKernelError } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuddyAllocator, hex, TlsfFrames, TlsfHeap } from '../src/index.js';
import { expectError } from './expect-error.js';
import { FUZZ_CASES } from './fuzz-cases.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RAM = 0x8000_0000;
const round16 = (n: number) => Math.ceil(n / 16) * 16;
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

describe('TlsfHeap', () => {
  it('allocates, frees and merges back to one block', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 64 * KiB }] });
    const a = h.alloc(100);
    const b = h.alloc(1);
    const c = h.alloc(5000, 4096);
    expect(a).toBe(RAM);
    expect(b).toBe(RAM + 112);
    expect(c % 4096).toBe(0);
    expect(h.usedBytes).toBe(112 + 16 + 5008);
    expect(h.sizeOf(a)).toBe(112);
    h.free(b);
    h.free(a);
    h.free(c);
    h.verify();
    expect(h.stats()).toMatchObject({ freeBytes: 64 * KiB, largestFreeBlock: 64 * KiB, freeBlocks: 1, liveAllocations: 0 });
  });

  it('serves a request that fits a block exactly, even when good fit would skip it', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 1000 * 16 }] });
    expect(h.alloc(1000 * 16)).toBe(RAM);
    const g = new TlsfHeap({ regions: [{ base: RAM + 4096, size: 8192 }] });
    expect(g.alloc(8192, 4096)).toBe(RAM + 4096);
  });

  it('reallocates in place when shrinking or when the next block is free, and moves otherwise', () => {
    const moves: number[][] = [];
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 4096 }], move: (f, t, n) => moves.push([f, t, n]) });
    const a = h.alloc(256);
    expect(h.realloc(a, 512)).toBe(a);
    expect(h.realloc(a, 64)).toBe(a);
    expect(h.usedBytes).toBe(64);
    const b = h.alloc(16);
    const a2 = h.realloc(a, 1024);
    expect(a2).not.toBe(a);
    expect(moves).toEqual([[a, a2, 64]]);
    expect(h.sizeOf(a)).toBe(0);
    h.free(b);
    h.free(a2);
    h.verify();
    expect(h.stats().freeBlocks).toBe(1);
  });

  it('leaves the allocation alone when realloc runs out of memory', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 1024 }] });
    const a = h.alloc(512);
    h.alloc(256);
    expectError(() => h.realloc(a, 768), 'ENOMEM', /cannot allocate 768 B/);
    expect(h.sizeOf(a)).toBe(512);
    h.verify();
  });

  it('grows from a frame allocator and trims back', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: 4 * MiB }]);
    const h = new TlsfHeap({ frames, growBytes: 64 * KiB });
    expect(h.totalBytes).toBe(0);
    const small = h.alloc(100);
    expect(h.totalBytes).toBe(64 * KiB);
    const big = h.alloc(300 * KiB, 64 * KiB);
    expect(big % (64 * KiB)).toBe(0);
    expect(h.stats().pools).toBe(2);
    expect(frames.freeBytes).toBe(4 * MiB - 64 * KiB - 300 * KiB);
    h.free(small);
    h.free(big);
    expect(h.trim()).toBe(364 * KiB);
    expect(frames.stats().freeBlocksByOrder[10]).toBe(1);
    expect(h.totalBytes).toBe(0);
    h.verify();
  });

  it('falls back to a smaller pool when the frame allocator cannot give the usual one', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: 16 * KiB }]);
    const h = new TlsfHeap({ frames, growBytes: 64 * KiB });
    expect(h.alloc(100)).toBe(RAM);
    expect(h.totalBytes).toBe(4 * KiB);
  });

  it('manages addresses near 2^53', () => {
    const base = 2 ** 53 - MiB;
    const h = new TlsfHeap({ regions: [{ base, size: MiB }] });
    const a = h.alloc(MiB / 2, 64 * KiB);
    const b = h.alloc(1000);
    expect(a % (64 * KiB)).toBe(0);
    expect(b).toBeGreaterThanOrEqual(base);
    h.free(a);
    h.free(b);
    expect(h.largestFreeBlock).toBe(MiB);
  });

  it('handles pools larger than 4 GiB (first-level classes past 32)', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 2 ** 44 }] });
    const a = h.alloc(2 ** 40 + 16);
    const b = h.alloc(16);
    expect(b).toBe(a + 2 ** 40 + 16);
    h.free(a);
    h.verify();
    expect(h.alloc(2 ** 40)).toBe(RAM);
  });

  it('detects bad frees and names the address', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 64 * KiB }] });
    const a = h.alloc(256);
    const before = h.stats();
    expectError(() => h.free(a + 64), 'EINVAL', new RegExp(`${hex(a + 64)}.*inside the allocation at ${hex(a)}`));
    expectError(() => h.free(a + 3), 'EINVAL', new RegExp(`${hex(a + 3)}.*not a multiple of 16`));
    expectError(() => h.free(a + 4096), 'EINVAL', new RegExp(`${hex(a + 4096)}.*double free`));
    expectError(() => h.free(0x1234_0000), 'EFAULT', /0x12340000.*not in memory/);
    expectError(() => h.free(a, 512), 'EINVAL', new RegExp(`${hex(a)}.*wrong size`));
    expectError(() => h.free(Number.NaN), 'EFAULT', /NaN is not a physical address/);
    expect(h.stats()).toEqual(before);
    h.free(a, 250);
    expectError(() => h.free(a), 'EINVAL', new RegExp(`${hex(a)}.*double free`));
  });

  it('rejects overlapping pools and bad arguments', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM, size: 64 * KiB }] });
    expectError(() => h.addPool(RAM + 4096, 4096), 'EINVAL', /overlaps the pool at 0x80000000/);
    expectError(() => h.alloc(0), 'EINVAL', /size 0/);
    expectError(() => h.alloc(16, 24), 'EINVAL', /alignment 24/);
    expectError(() => h.alloc(128 * KiB), 'ENOMEM', /cannot allocate 128 KiB aligned to 16 B: 64 KiB free/);
  });

  it('serves page frames through TlsfFrames, size-checked', () => {
    const h = new TlsfHeap({ regions: [{ base: RAM + 16, size: MiB }] });
    const f = new TlsfFrames(h);
    const pa = f.allocFrames(5000);
    expect(pa % 4096).toBe(0);
    expect(h.sizeOf(pa)).toBe(8192);
    expectError(() => f.freeFrames(pa, 4096), 'EINVAL', /wrong size/);
    f.freeFrames(pa, 8000);
    expect(f.freeBytes).toBe(f.totalBytes);
  });
});

// ── property test against an interval model ─────────────────────────────────────────────

interface Live {
  pa: number;
  size: number;
}

class Model {
  live: Live[] = [];
  constructor(readonly pools: { base: number; size: number }[]) {}
  get used(): number {
    return this.live.reduce((a, l) => a + l.size, 0);
  }
  /** Maximal free intervals of every pool, which is exactly what TLSF's free blocks are. */
  freeIntervals(): [number, number][] {
    const out: [number, number][] = [];
    for (const p of this.pools) {
      const inside = this.live.filter((l) => l.pa >= p.base && l.pa < p.base + p.size).sort((a, b) => a.pa - b.pa);
      let at = p.base;
      for (const l of inside) {
        if (l.pa > at) out.push([at, l.pa]);
        at = l.pa + l.size;
      }
      if (at < p.base + p.size) out.push([at, p.base + p.size]);
    }
    return out;
  }
  fits(size: number, align: number): boolean {
    return this.freeIntervals().some(([s, e]) => alignUp(s, align) + size <= e);
  }
  largest(): number {
    return Math.max(0, ...this.freeIntervals().map(([s, e]) => e - s));
  }
  checkNoOverlap(pa: number, size: number): void {
    const pool = this.pools.find((p) => pa >= p.base && pa + size <= p.base + p.size);
    expect(pool, `${hex(pa)}+${size} lies in a pool`).toBeDefined();
    for (const l of this.live) expect(pa + size <= l.pa || l.pa + l.size <= pa, `${hex(pa)}+${size} overlaps ${hex(l.pa)}+${l.size}`).toBe(true);
  }
}

const poolsArb = fc
  .record({
    start: fc.oneof(fc.constant(RAM), fc.constant(2 ** 52)),
    pieces: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 4096 }), size: fc.integer({ min: 1, max: 48 * KiB }) }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ start, pieces }) => {
    const pools: { base: number; size: number }[] = [];
    let at = start;
    for (const p of pieces) {
      const base = alignUp(at, 16);
      const size = Math.floor(p.size / 16) * 16 || 16;
      pools.push({ base, size });
      at = base + size + 16 + round16(p.gap);
    }
    return pools;
  });

const alignArb = fc.constantFrom(16, 16, 16, 32, 64, 256, 4096);
const commandArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), bytes: fc.integer({ min: 1, max: 6000 }), align: alignArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('realloc' as const), pick: fc.nat(), bytes: fc.integer({ min: 1, max: 8000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('double' as const), pick: fc.nat() }) },
);

describe('TlsfHeap against a model', () => {
  it('never overlaps, honours alignment, fails only when nothing fits, keeps statistics exact, and merges back', () => {
    fc.assert(
      fc.property(poolsArb, fc.array(commandArb, { maxLength: 80 }), (pools, commands) => {
        const moves: number[][] = [];
        const h = new TlsfHeap({ move: (f, t, n) => moves.push([f, t, n]) });
        for (const p of pools) h.addPool(p.base, p.size);
        const model = new Model(pools);
        const total = pools.reduce((a, p) => a + p.size, 0);
        const check = () => {
          const s = h.stats();
          expect(s.totalBytes).toBe(total);
          expect(s.usedBytes).toBe(model.used);
          expect(s.freeBytes).toBe(total - model.used);
          expect(s.liveAllocations).toBe(model.live.length);
          expect(s.largestFreeBlock).toBe(model.largest());
          expect(s.freeBlocks).toBe(model.freeIntervals().length);
          h.verify();
        };
        for (const c of commands) {
          if (c.kind === 'alloc') {
            const size = round16(c.bytes);
            const possible = model.fits(size, c.align);
            let pa: number | undefined;
            try {
              pa = h.alloc(c.bytes, c.align);
            } catch (e) {
              expect(isKernelError(e, 'ENOMEM')).toBe(true);
            }
            expect(pa !== undefined, `alloc ${c.bytes} aligned ${c.align}: model says ${possible}`).toBe(possible);
            if (pa !== undefined) {
              expect(pa % c.align).toBe(0);
              model.checkNoOverlap(pa, size);
              model.live.push({ pa, size });
            }
          } else if (c.kind === 'free') {
            if (model.live.length === 0) continue;
            const [l] = model.live.splice(c.pick % model.live.length, 1);
            h.free(l.pa, c.pick % 2 === 0 ? l.size : undefined);
          } else if (c.kind === 'realloc') {
            if (model.live.length === 0) continue;
            const i = c.pick % model.live.length;
            const l = model.live[i];
            const size = round16(c.bytes);
            const others = model.live.filter((_, j) => j !== i);
            const next = model.freeIntervals().find(([s]) => s === l.pa + l.size);
            const inPlace = size <= l.size || (next !== undefined && l.size + next[1] - next[0] >= size);
            const possible = inPlace || model.fits(size, 16);
            moves.length = 0;
            let pa: number | undefined;
            try {
              pa = h.realloc(l.pa, c.bytes);
            } catch (e) {
              expect(isKernelError(e, 'ENOMEM')).toBe(true);
            }
            expect(pa !== undefined, `realloc ${l.size} → ${size}: model says ${possible}`).toBe(possible);
            if (pa === undefined) continue;
            if (inPlace) expect(pa).toBe(l.pa);
            expect(moves).toEqual(pa === l.pa ? [] : [[l.pa, pa, l.size]]);
            model.live = others;
            model.checkNoOverlap(pa, size);
            model.live.push({ pa, size });
          } else {
            const intervals = model.freeIntervals();
            if (intervals.length === 0) continue;
            const [s, e] = intervals[c.pick % intervals.length];
            const pa = s + round16((c.pick >>> 3) % (e - s)) - (round16((c.pick >>> 3) % (e - s)) >= e - s ? 16 : 0);
            const before = h.stats();
            expectError(() => h.free(pa), 'EINVAL', new RegExp(`${hex(pa)}.*double free`));
            expect(h.stats()).toEqual(before);
          }
          check();
        }
        for (const l of model.live) h.free(l.pa);
        model.live = [];
        check();
        expect(h.stats().freeBlocks).toBe(pools.length);
      }),
      { numRuns: FUZZ_CASES },
    );
  });

  it('a heap grown from buddy frames gives every frame back once emptied and trimmed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ alloc: fc.integer({ min: 1, max: 200 * KiB }), align: alignArb }), fc.record({ free: fc.nat() })), { maxLength: 60 }),
        (commands) => {
          const frames = new BuddyAllocator([{ base: RAM, size: 4 * MiB }]);
          const initial = frames.stats();
          const h = new TlsfHeap({ frames, growBytes: 64 * KiB });
          const live: Live[] = [];
          for (const c of commands) {
            if ('alloc' in c) {
              try {
                const pa = h.alloc(c.alloc, c.align);
                expect(pa % c.align).toBe(0);
                for (const l of live) expect(pa + round16(c.alloc) <= l.pa || l.pa + l.size <= pa).toBe(true);
                expect(frames.owns(pa)).toBe(true);
                live.push({ pa, size: round16(c.alloc) });
              } catch (e) {
                expect(isKernelError(e, 'ENOMEM')).toBe(true);
              }
            } else if (live.length > 0) {
              h.free(live.splice(c.free % live.length, 1)[0].pa);
            }
            expect(h.totalBytes + frames.freeBytes).toBe(4 * MiB);
            h.verify();
          }
          for (const l of live) h.free(l.pa);
          h.trim();
          expect(h.totalBytes).toBe(0);
          expect(frames.stats()).toEqual(initial);
        },
      ),
      { numRuns: FUZZ_CASES },
    );
  });
});
