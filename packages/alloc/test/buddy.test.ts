import { isKernelError, type MemoryRegion } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuddyAllocator, hex } from '../src/index.js';
import { expectError } from './expect-error.js';
import { FUZZ_CASES } from './fuzz-cases.js';

const PAGE = 4096;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RAM = 0x8000_0000;

describe('BuddyAllocator', () => {
  it('starts 64 MiB at 0x80000000 as one order-14 block', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 64 * MiB }]);
    const s = b.stats();
    expect(s.totalBytes).toBe(64 * MiB);
    expect(s.freeBytes).toBe(64 * MiB);
    expect(s.largestFreeBlock).toBe(64 * MiB);
    expect(s.fragmentation).toBe(0);
    expect(s.freeBlocksByOrder[14]).toBe(1);
    expect(s.freeBlocksByOrder.reduce((a, n) => a + n, 0)).toBe(1);
  });

  it('caps blocks at 1 GiB: 3 GiB of RAM is three order-18 blocks', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 3 * GiB }]);
    expect(b.stats().freeBlocksByOrder[18]).toBe(3);
    expect(b.largestFreeBlock).toBe(GiB);
  });

  it('carves an unaligned region into naturally aligned blocks', () => {
    // 0x80201000 .. 0x80400000: pages 0x80201..0x803ff, i.e. 1 + 2 + 4 + ... + 256 pages.
    const b = new BuddyAllocator([{ base: 0x8020_1000, size: 0x1f_f000 }]);
    expect(b.stats().freeBlocksByOrder.slice(0, 9)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    b.verify();
  });

  it('trims regions to whole pages and joins adjacent ones', () => {
    const b = new BuddyAllocator([
      { base: RAM + 100, size: 2 * MiB },
      { base: RAM + 2 * MiB + 100, size: 2 * MiB - 100 },
    ]);
    expect(b.zones.length).toBe(1);
    expect(b.totalBytes).toBe(4 * MiB - PAGE);
  });

  it('allocates exactly: 12 KiB costs three pages, and the fourth stays free', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 16 * PAGE }]);
    const pa = b.allocFrames(3 * PAGE);
    expect(pa).toBe(RAM);
    expect(b.freeBytes).toBe(13 * PAGE);
    expect(b.allocFrames(PAGE)).toBe(RAM + 3 * PAGE);
    expect(b.sizeOf(pa)).toBe(3 * PAGE);
    b.verify();
  });

  it('honours alignment up to 1 GiB', () => {
    const b = new BuddyAllocator([{ base: RAM + PAGE, size: 4 * GiB }]);
    b.allocFrames(PAGE);
    for (const align of [8 * 1024, 64 * 1024, 2 * MiB, GiB]) {
      const pa = b.allocFrames(PAGE, align);
      expect(pa % align).toBe(0);
    }
    b.verify();
  });

  it('manages addresses up to 2^53', () => {
    const base = 2 ** 53 - 2 * GiB;
    const b = new BuddyAllocator([{ base, size: 2 * GiB }]);
    const a = b.allocFrames(GiB);
    const c = b.allocFrames(5 * PAGE, 64 * 1024);
    expect(a).toBeGreaterThanOrEqual(base);
    expect(c + 5 * PAGE).toBeLessThanOrEqual(2 ** 53);
    expect(c % (64 * 1024)).toBe(0);
    b.freeFrames(a, GiB);
    b.freeFrames(c, 5 * PAGE);
    expect(b.stats().freeBlocksByOrder[18]).toBe(2);
  });

  it('reports exhaustion as a typed ENOMEM naming what is free', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 8 * PAGE }]);
    b.allocFrames(4 * PAGE);
    b.allocFrames(PAGE);
    expectError(() => b.allocFrames(4 * PAGE), 'ENOMEM', /cannot allocate 16 KiB.*12 KiB free, largest free block 8 KiB/);
    expectError(() => b.allocFrames(2 * GiB), 'ENOMEM', /largest buddy block/);
    expectError(() => b.allocFrames(PAGE, 2 * GiB), 'ENOMEM', /largest buddy block/);
  });

  it('rejects bad arguments', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 8 * PAGE }]);
    expectError(() => b.allocFrames(0), 'EINVAL', /size 0/);
    expectError(() => b.allocFrames(1.5), 'EINVAL', /size 1.5/);
    expectError(() => b.allocFrames(PAGE, 3 * PAGE), 'EINVAL', /alignment 12288 is not a power of two/);
  });

  it('detects double, interior, foreign, misaligned and wrong-size frees and names the address', () => {
    const b = new BuddyAllocator([{ base: RAM, size: 64 * PAGE }]);
    const pa = b.allocFrames(3 * PAGE);
    const before = b.stats();
    expectError(() => b.freeFrames(pa + PAGE, PAGE), 'EINVAL', new RegExp(`${hex(pa + PAGE)}.*inside the allocation at ${hex(pa)}`));
    expectError(() => b.freeFrames(pa + 8, 3 * PAGE), 'EINVAL', new RegExp(`${hex(pa + 8)}.*not a multiple of 4096`));
    expectError(() => b.freeFrames(pa, 4 * PAGE), 'EINVAL', new RegExp(`${hex(pa)}.*wrong size`));
    expectError(() => b.freeFrames(pa, 2 * PAGE), 'EINVAL', /wrong size/);
    expectError(() => b.freeFrames(0x1000_0000, PAGE), 'EFAULT', /0x10000000.*not in memory/);
    expectError(() => b.freeFrames(pa + 32 * PAGE, PAGE), 'EINVAL', /double free/);
    expect(b.stats()).toEqual(before);
    b.freeFrames(pa, 3 * PAGE - 100); // the same number of pages
    expectError(() => b.freeFrames(pa, 3 * PAGE), 'EINVAL', new RegExp(`${hex(pa)}.*double free`));
    b.verify();
    expect(b.stats().freeBlocksByOrder[6]).toBe(1);
  });

  it('an allocator over no memory throws ENOMEM', () => {
    const b = new BuddyAllocator([]);
    expect(b.totalBytes).toBe(0);
    expectError(() => b.allocFrames(PAGE), 'ENOMEM', /0 B free/);
  });
});

// ── property test against a page-map model ───────────────────────────────────────────────

interface Region {
  pfn: number;
  pages: number;
}

/** The model: which pages are taken, and the live allocations. */
class Model {
  readonly taken: Uint8Array[];
  readonly live: { pa: number; pages: number }[] = [];
  constructor(readonly regions: Region[]) {
    this.taken = regions.map((r) => new Uint8Array(r.pages));
  }
  get freePages(): number {
    let n = 0;
    for (const t of this.taken) for (const x of t) n += x === 0 ? 1 : 0;
    return n;
  }
  /** A free block of 2^k pages aligned physically to its size exists in one region. */
  hasAlignedFree(k: number): boolean {
    const span = 2 ** k;
    return this.regions.some((r, i) => {
      for (let pfn = Math.ceil(r.pfn / span) * span; pfn + span <= r.pfn + r.pages; pfn += span) {
        const at = pfn - r.pfn;
        let free = true;
        for (let j = 0; j < span && free; j++) free = this.taken[i][at + j] === 0;
        if (free) return true;
      }
      return false;
    });
  }
  largestFreeBlock(): number {
    for (let k = 18; k >= 0; k--) if (this.hasAlignedFree(k)) return 2 ** k * PAGE;
    return 0;
  }
  mark(pa: number, pages: number, value: 0 | 1): void {
    const pfn = pa / PAGE;
    const i = this.regions.findIndex((r) => pfn >= r.pfn && pfn + pages <= r.pfn + r.pages);
    expect(i, `allocation ${hex(pa)} + ${pages} pages lies inside one region`).toBeGreaterThanOrEqual(0);
    for (let j = 0; j < pages; j++) {
      const at = pfn - this.regions[i].pfn + j;
      expect(this.taken[i][at], `page ${hex(pa + j * PAGE)} is ${value ? 'free' : 'taken'} before`).toBe(value ? 0 : 1);
      this.taken[i][at] = value;
    }
  }
  /** Some free page, if any. */
  freePage(seed: number): number | undefined {
    const all: number[] = [];
    this.regions.forEach((r, i) => {
      for (let j = 0; j < r.pages; j++) if (this.taken[i][j] === 0) all.push((r.pfn + j) * PAGE);
    });
    return all.length === 0 ? undefined : all[seed % all.length];
  }
}

const regionsArb = fc
  .record({
    start: fc.oneof(fc.constant(RAM / PAGE), fc.integer({ min: RAM / PAGE, max: RAM / PAGE + 2 ** 18 }), fc.constant(2 ** 40 - 2 ** 12)),
    pieces: fc.array(fc.record({ gap: fc.integer({ min: 1, max: 300 }), pages: fc.integer({ min: 1, max: 700 }) }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ start, pieces }) => {
    const regions: Region[] = [];
    let pfn = start;
    for (const p of pieces) {
      regions.push({ pfn, pages: p.pages });
      pfn += p.pages + p.gap;
    }
    return regions;
  });

const commandArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), pages: fc.integer({ min: 1, max: 80 }), alignOrder: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bad' as const),
      how: fc.constantFrom('double', 'interior', 'foreign', 'misaligned', 'wrongSize'),
      pick: fc.nat(),
    }),
  },
);

describe('BuddyAllocator against a model', () => {
  it('never overlaps, honours alignment, keeps statistics exact, rejects bad frees, and coalesces back', () => {
    fc.assert(
      fc.property(regionsArb, fc.array(commandArb, { maxLength: 60 }), (regions, commands) => {
        const memory: MemoryRegion[] = regions.map((r) => ({ base: r.pfn * PAGE, size: r.pages * PAGE }));
        const b = new BuddyAllocator(memory);
        const model = new Model(regions);
        const initial = b.stats();
        const totalPages = regions.reduce((a, r) => a + r.pages, 0);
        expect(initial.totalBytes).toBe(totalPages * PAGE);

        const check = () => {
          const s = b.stats();
          expect(s.freeBytes).toBe(model.freePages * PAGE);
          expect(s.usedBytes).toBe((totalPages - model.freePages) * PAGE);
          expect(s.liveAllocations).toBe(model.live.length);
          expect(s.largestFreeBlock).toBe(model.largestFreeBlock());
          b.verify();
        };

        for (const c of commands) {
          if (c.kind === 'alloc') {
            const align = PAGE * 2 ** c.alignOrder;
            const order = Math.max(Math.ceil(Math.log2(c.pages)), c.alignOrder);
            const possible = model.hasAlignedFree(order);
            let pa: number | undefined;
            try {
              pa = b.allocFrames(c.pages * PAGE, align);
            } catch (e) {
              expect(isKernelError(e, 'ENOMEM')).toBe(true);
            }
            expect(pa !== undefined, `alloc ${c.pages} pages aligned ${align}: model says ${possible}`).toBe(possible);
            if (pa !== undefined) {
              expect(pa % align).toBe(0);
              expect(pa % (PAGE * 2 ** order)).toBe(0); // buddy blocks are naturally aligned
              model.mark(pa, c.pages, 1);
              model.live.push({ pa, pages: c.pages });
            }
          } else if (c.kind === 'free') {
            if (model.live.length === 0) continue;
            const [victim] = model.live.splice(c.pick % model.live.length, 1);
            b.freeFrames(victim.pa, victim.pages * PAGE);
            model.mark(victim.pa, victim.pages, 0);
          } else {
            const before = b.stats();
            const victim = model.live.length > 0 ? model.live[c.pick % model.live.length] : undefined;
            let call: (() => void) | undefined;
            let code = 'EINVAL';
            let pattern: RegExp | undefined;
            if (c.how === 'double') {
              const pa = model.freePage(c.pick);
              if (pa !== undefined) {
                call = () => b.freeFrames(pa, PAGE);
                pattern = new RegExp(`${hex(pa)}.*double free`);
              }
            } else if (c.how === 'foreign') {
              const last = regions[regions.length - 1];
              const pa = (last.pfn + last.pages + (c.pick % 5)) * PAGE;
              call = () => b.freeFrames(pa, PAGE);
              code = 'EFAULT';
              pattern = new RegExp(hex(pa));
            } else if (victim !== undefined && c.how === 'interior' && victim.pages > 1) {
              const pa = victim.pa + (1 + (c.pick % (victim.pages - 1))) * PAGE;
              call = () => b.freeFrames(pa, PAGE);
              pattern = new RegExp(`${hex(pa)}.*inside the allocation at ${hex(victim.pa)}`);
            } else if (victim !== undefined && c.how === 'misaligned') {
              const pa = victim.pa + 16 * (1 + (c.pick % 255));
              call = () => b.freeFrames(pa, victim.pages * PAGE);
              pattern = new RegExp(`${hex(pa)}.*not a multiple`);
            } else if (victim !== undefined && c.how === 'wrongSize') {
              call = () => b.freeFrames(victim.pa, (victim.pages + 1 + (c.pick % 3)) * PAGE);
              pattern = new RegExp(`${hex(victim.pa)}.*wrong size`);
            }
            if (call === undefined || pattern === undefined) continue;
            expectError(call, code as 'EINVAL' | 'EFAULT', pattern);
            expect(b.stats()).toEqual(before);
          }
          check();
        }

        for (const l of model.live) b.freeFrames(l.pa, l.pages * PAGE);
        expect(b.stats()).toEqual(initial);
        b.verify();
      }),
      { numRuns: FUZZ_CASES },
    );
  });
});
