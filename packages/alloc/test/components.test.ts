import { buildFdt, parseFdt } from '@uk/fdt';
import { type Component, InitLevel, isKernelError, type KernelContext, type MemoryRegion, type ServiceKey, Services } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { allocatorStats, BuddyAllocator, buddy, Pool, RegionAllocator, region, TlsfFrames, TlsfHeap, tlsf } from '../src/index.js';

const MiB = 1024 * 1024;
const RAM = 0x8000_0000;

/**
 * Just what the allocator components use of a KernelContext: a device tree whose /memory
 * nodes are the free regions, the blob boot occupies (none here), RAM, provide/get.
 */
function fakeContext(freeMemory: MemoryRegion[], ramSize = 4 * MiB) {
  const services = new Map<string, unknown>();
  const ram = { base: RAM, size: ramSize, bytes: new Uint8Array(ramSize) };
  const fdt = parseFdt(
    buildFdt({
      root: {
        name: '',
        props: { '#address-cells': 2, '#size-cells': 2 },
        children: freeMemory.map((r) => ({ name: `memory@${r.base.toString(16)}`, props: { device_type: 'memory', reg: { u64: [r.base, r.size] } } })),
      },
    }),
  );
  const ctx = {
    cpu: { ram },
    fdt,
    bootReserved: [],
    provide<T>(key: ServiceKey<T>, service: T) {
      if (services.has(key.id)) throw new Error(`${key.id} provided twice`);
      services.set(key.id, service);
    },
    get<T>(key: ServiceKey<T>): T {
      const s = services.get(key.id);
      if (s === undefined) throw new Error(`no ${key.id}`);
      return s as T;
    },
    tryGet<T>(key: ServiceKey<T>): T | undefined {
      return services.get(key.id) as T | undefined;
    },
  };
  return { ctx: ctx as unknown as KernelContext, ram };
}

// Boot hands over RAM minus the image and the device tree: two pieces.
const free: MemoryRegion[] = [
  { base: RAM + 0x20_0000, size: MiB },
  { base: RAM + 0x30_1000, size: 0xff000 },
];

describe.each([
  ['buddy', buddy(), BuddyAllocator, TlsfHeap],
  ['tlsf', tlsf(), TlsfFrames, TlsfHeap],
  ['region', region(), RegionAllocator, RegionAllocator],
] as [string, Component, abstract new (...args: never[]) => unknown, abstract new (...args: never[]) => unknown][])(
  '%s()',
  (name, component, FramesClass, HeapClass) => {
    it('is a memory-level component of @uk/alloc providing frames and dma', () => {
      expect(component.name).toBe(name);
      expect(component.level).toBe(InitLevel.Memory);
      expect(component.package).toBe('@uk/alloc');
      expect(component.provides).toEqual([Services.frames, Services.dma]);
    });

    it('builds its allocators over the usable memory and provides them', async () => {
      const { ctx } = fakeContext(free);
      await component.init(ctx);
      const frames = ctx.get(Services.frames);
      const dma = ctx.get(Services.dma);
      expect(frames).toBeInstanceOf(FramesClass);
      expect(dma).toBeInstanceOf(HeapClass);
      expect(frames.totalBytes).toBe(MiB + 0xff000);
      expect(allocatorStats(frames)).toMatchObject({ totalBytes: MiB + 0xff000, usedBytes: 0, liveAllocations: 0 });
      expect(allocatorStats(dma)?.usedBytes).toBe(0);
      expect(allocatorStats({})).toBeUndefined();
      const inFree = (pa: number, n: number) => free.some((r) => pa >= r.base && pa + n <= r.base + r.size);
      const f = frames.allocFrames(64 * 1024, 64 * 1024);
      expect(f % (64 * 1024)).toBe(0);
      expect(inFree(f, 64 * 1024)).toBe(true);
      const d = dma.alloc(1500, 64);
      expect(d % 64).toBe(0);
      expect(inFree(d, 1500)).toBe(true);
      expect(Math.max(f, d) >= Math.min(f, d) + (f < d ? 64 * 1024 : 1504)).toBe(true);
      dma.free(d);
      frames.freeFrames(f, 64 * 1024);
      const pool = new Pool({ objectSize: 2048, source: dma, name: `${name} pool` });
      const p = pool.alloc();
      expect(inFree(p, 2048)).toBe(true);
    });

    it('refuses to start without free memory', async () => {
      const { ctx } = fakeContext([]);
      let caught: unknown;
      try {
        await component.init(ctx);
      } catch (e) {
        caught = e;
      }
      expect(isKernelError(caught, 'ENOMEM')).toBe(true);
      expect((caught as Error).message).toMatch(new RegExp(`${name}\\(\\): boot found no free RAM`));
    });
  },
);

describe('realloc through a component copies the bytes within RAM', () => {
  it.each([
    ['buddy', buddy()],
    ['tlsf', tlsf()],
  ] as [string, Component][])('%s()', async (_, component) => {
    const { ctx, ram } = fakeContext(free);
    await component.init(ctx);
    const heap = ctx.get(Services.dma) as TlsfHeap;
    const a = heap.alloc(64);
    const blocker = heap.alloc(16);
    ram.bytes.set([1, 2, 3, 4], a - RAM);
    const b = heap.realloc(a, 4096);
    expect(b).not.toBe(a);
    expect(Array.from(ram.bytes.subarray(b - RAM, b - RAM + 4))).toEqual([1, 2, 3, 4]);
    heap.free(blocker);
    heap.free(b);
  });
});
