import { describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { type Cpu, KernelError, type ServiceKey, Services, type ThreadSpawner } from '@uk/hal';
import { BlockCache, FsLock, kernelWait } from '../src/index.js';

/** A RAM disk that records every request. */
class RecordingDisk extends RamDisk {
  readonly log: string[] = [];
  override async read(block: number, buffer: Uint8Array): Promise<void> {
    this.log.push(`r${block}+${buffer.length / 512}`);
    return super.read(block, buffer);
  }
  override async write(block: number, data: Uint8Array): Promise<void> {
    this.log.push(`w${block}+${data.length / 512}`);
    return super.write(block, data);
  }
  override async flush(): Promise<void> {
    this.log.push('flush');
  }
}

describe('BlockCache', () => {
  it('reads once, keeps changes in memory until written back, and writes data before metadata', async () => {
    const disk = new RecordingDisk({ blockCount: 64 });
    disk.bytes[5 * 512] = 42;
    const cache = new BlockCache(disk);
    expect((await cache.get(5))[0]).toBe(42);
    expect((await cache.get(5))[0]).toBe(42);
    expect(disk.log).toEqual(['r5+1']);
    for (const b of [2, 3, 4]) {
      (await cache.get(b))[0] = b;
      cache.markDirty(b, true);
    }
    for (const b of [20, 21]) {
      cache.zero(b)[1] = b;
    }
    expect(disk.bytes[2 * 512]).toBe(0);
    disk.log.length = 0;
    await cache.flush();
    // Data blocks first, then metadata, each as one run of adjacent blocks, then FLUSH.
    expect(disk.log).toEqual(['w20+2', 'w2+3', 'flush']);
    expect(disk.bytes[3 * 512]).toBe(3);
    expect(disk.bytes[21 * 512 + 1]).toBe(21);
    expect(cache.dirtyCount).toBe(0);
  });

  it('evicts clean blocks past its capacity, and writes dirty ones back to make room', async () => {
    const disk = new RecordingDisk({ blockCount: 256 });
    const cache = new BlockCache(disk, { capacityBytes: 16 * 512 });
    for (let b = 0; b < 16; b++) {
      (await cache.get(b))[0] = 100 + b;
      cache.markDirty(b);
    }
    for (let b = 100; b < 140; b++) await cache.get(b);
    expect(cache.stats.blocks).toBeLessThanOrEqual(16);
    for (let b = 0; b < 16; b++) expect(disk.bytes[b * 512]).toBe(100 + b);
  });

  it('stays coherent when bulk transfers bypass it', async () => {
    const disk = new RamDisk({ blockCount: 32 });
    const cache = new BlockCache(disk);
    (await cache.get(9))[7] = 77;
    cache.markDirty(9);
    const dst = new Uint8Array(8 * 512);
    await cache.readDirect(8, dst);
    expect(dst[512 + 7]).toBe(77);
    const src = new Uint8Array(4 * 512).fill(5);
    await cache.writeDirect(8, src);
    expect((await cache.get(9))[7]).toBe(5);
    expect(cache.dirtyCount).toBe(0);
    (await cache.get(12))[0] = 1;
    cache.markDirty(12);
    cache.discard(12, 1);
    await cache.flush();
    expect(disk.bytes[12 * 512]).toBe(0);
  });

  it('refuses blocks outside the device with EIO', async () => {
    const cache = new BlockCache(new RamDisk({ blockCount: 8 }));
    await expect(cache.get(8)).rejects.toMatchObject({ code: 'EIO' });
    await expect(cache.prefetch(-1, 1)).rejects.toMatchObject({ code: 'EIO' });
    expect(() => cache.markDirty(3)).toThrow(/not in the cache/);
  });
});

describe('FsLock', () => {
  it('runs operations one at a time, in arrival order', async () => {
    const lock = new FsLock();
    const order: string[] = [];
    const op = (name: string, ticks: number) =>
      lock.run(async () => {
        order.push(`${name}+`);
        for (let i = 0; i < ticks; i++) await Promise.resolve();
        order.push(`${name}-`);
        return name;
      });
    const results = await Promise.all([op('a', 5), op('b', 1), op('c', 3)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    await expect(lock.run(async () => Promise.reject(new KernelError('EIO', 'x')))).rejects.toMatchObject({ code: 'EIO' });
    expect(await lock.run(async () => 1)).toBe(1);
    expect(lock.busy).toBe(false);
  });
});

describe('kernelWait', () => {
  const ctxWith = (cpu: Partial<Cpu>, sched?: ThreadSpawner) => ({
    cpu: cpu as Cpu,
    tryGet: <T>(key: ServiceKey<T>) => (key.id === Services.scheduler.id ? (sched as T | undefined) : undefined),
  });

  it('is a plain await outside threads: boot\'s idle loop takes the interrupts', async () => {
    const wait = kernelWait(ctxWith({}));
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => {
      resolve = r;
    });
    const got = wait(p);
    resolve(7);
    expect(await got).toBe(7);
  });

  it("uses the scheduler's waitFor from threads, and a plain await where it says EPERM", async () => {
    const seen: string[] = [];
    let inThread = true;
    const sched: ThreadSpawner = {
      spawn: (_n, fn) => fn(),
      waitFor: <T>(p: Promise<T>) => {
        if (!inThread) throw new KernelError('EPERM', 'not in a thread');
        seen.push('waitFor');
        return p;
      },
    };
    const wait = kernelWait(ctxWith({}, sched));
    expect(await wait(Promise.resolve(1))).toBe(1);
    inThread = false;
    expect(await wait(Promise.resolve(2))).toBe(2);
    expect(seen).toEqual(['waitFor']);
  });
});
