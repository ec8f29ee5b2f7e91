import { isKernelError } from '@uk/hal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuddyAllocator, hex, Pool, TlsfHeap } from '../src/index.js';
import { expectError } from './expect-error.js';
import { FUZZ_CASES } from './fuzz-cases.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RAM = 0x8000_0000;

describe('Pool', () => {
  it('carves power-of-two chunks aligned to their size and hands objects out in address order', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: MiB }]);
    const pool = new Pool({ objectSize: 1526, align: 64, source: frames });
    expect(pool.stride).toBe(1536);
    expect(pool.chunkBytes).toBe(64 * KiB);
    expect(pool.objectsPerChunk).toBe(42);
    const a = pool.alloc();
    const b = pool.alloc();
    expect(b - a).toBe(1536);
    expect(a % (64 * KiB)).toBe(0);
    pool.free(a);
    expect(pool.alloc()).toBe(a);
  });

  it('reserves objects up front and refuses to pass maxObjects', () => {
    const heap = new TlsfHeap({ regions: [{ base: RAM, size: MiB }] });
    const pool = new Pool({ objectSize: 64, source: heap, reserve: 100, maxObjects: 100 });
    expect(pool.capacity).toBeGreaterThanOrEqual(100);
    const used = heap.usedBytes;
    for (let i = 0; i < 100; i++) pool.alloc();
    expect(heap.usedBytes).toBe(used);
    expectError(() => pool.alloc(), 'ENOMEM', /all 100 objects are in use/);
  });

  it('reports an exhausted source as ENOMEM naming the pool', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: 4096 }]);
    const pool = new Pool({ objectSize: 2048, source: frames, objectsPerChunk: 2, name: 'virtio-net rx' });
    pool.alloc();
    pool.alloc();
    expectError(() => pool.alloc(), 'ENOMEM', /virtio-net rx: cannot grow by a chunk of 4 KiB/);
  });

  it('detects double, foreign and misaligned frees and names the address', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: MiB }]);
    const pool = new Pool({ objectSize: 100, source: frames });
    const a = pool.alloc();
    expectError(() => pool.free(a + 16), 'EINVAL', new RegExp(`${hex(a + 16)}.*not a multiple of 112`));
    expectError(() => pool.free(a + 112), 'EINVAL', new RegExp(`${hex(a + 112)}.*double free`));
    expectError(() => pool.free(RAM + 512 * KiB), 'EFAULT', /0x80080000/);
    expectError(() => pool.free(a + 4096 - 16), 'EINVAL', /not a multiple/);
    pool.free(a);
    expectError(() => pool.free(a), 'EINVAL', new RegExp(`${hex(a)}.*double free`));
    expect(pool.live).toBe(0);
  });

  it('destroy gives every chunk back, and refuses while objects are live', () => {
    const frames = new BuddyAllocator([{ base: RAM, size: MiB }]);
    const initial = frames.stats();
    const pool = new Pool({ objectSize: 256, source: frames });
    const xs = Array.from({ length: 100 }, () => pool.alloc());
    expectError(() => pool.destroy(), 'EBUSY', /100 objects are still live/);
    for (const x of xs) pool.free(x);
    pool.destroy();
    expect(frames.stats()).toEqual(initial);
  });

  it('against a model: unique, aligned, live-tracked objects from either source', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(8, 16, 64, 512),
        fc.boolean(),
        fc.array(fc.oneof(fc.constant(-1), fc.nat()), { maxLength: 300 }),
        (objectSize, align, fromFrames, ops) => {
          const frames = new BuddyAllocator([{ base: RAM, size: 8 * MiB }]);
          const heap = new TlsfHeap({ frames });
          const pool = new Pool({ objectSize, align, source: fromFrames ? frames : heap, objectsPerChunk: 4 });
          const live: number[] = [];
          const liveSet = new Set<number>();
          for (const op of ops) {
            if (op === -1 || live.length === 0) {
              let pa: number;
              try {
                pa = pool.alloc();
              } catch (e) {
                expect(isKernelError(e, 'ENOMEM')).toBe(true);
                continue;
              }
              expect(pa % align).toBe(0);
              expect(liveSet.has(pa)).toBe(false);
              for (const other of live) expect(Math.abs(pa - other)).toBeGreaterThanOrEqual(objectSize);
              live.push(pa);
              liveSet.add(pa);
            } else {
              const [pa] = live.splice(op % live.length, 1);
              liveSet.delete(pa);
              pool.free(pa);
              expect(pool.isLive(pa)).toBe(false);
              expectError(() => pool.free(pa), 'EINVAL', /double free/);
            }
            expect(pool.live).toBe(live.length);
          }
          for (const pa of live) expect(pool.isLive(pa)).toBe(true);
          for (const pa of live) pool.free(pa);
          pool.destroy();
          heap.trim();
          expect(frames.freeBytes).toBe(8 * MiB);
        },
      ),
      { numRuns: FUZZ_CASES },
    );
  });
});
