import { describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { type Cpu, type KernelContext, KernelError, type ServiceKey } from '@uk/hal';
import { ramfs, VfsKey, vfs } from '@uk/vfs';
import { fat, mkfs, parseBootSector } from '../src/index.js';

/** Just enough of a kernel for file-system components: services, devices, console, shutdown hooks. */
function fakeKernel(disks: Record<string, RamDisk>) {
  const services = new Map<string, unknown>();
  const hooks: Array<() => void | Promise<void>> = [];
  let text = '';
  const ctx = {
    cpu: { wfi: () => Promise.resolve() } as unknown as Cpu,
    mainTime: Number.NaN,
    console: { write: (s: string) => void (text += s) },
    provide: <T>(k: ServiceKey<T>, v: T) => void services.set(k.id, v),
    get: <T>(k: ServiceKey<T>): T => {
      if (!services.has(k.id)) throw new KernelError('ENODEV', k.id);
      return services.get(k.id) as T;
    },
    tryGet: <T>(k: ServiceKey<T>) => services.get(k.id) as T | undefined,
    devices: <T>(kind: string) => new Map(kind === 'block' ? (Object.entries(disks) as Array<[string, T]>) : []),
    onShutdown: (h: () => void | Promise<void>) => void hooks.push(h),
  } as unknown as KernelContext;
  return {
    ctx,
    text: () => text,
    shutdown: async () => {
      for (const h of hooks.reverse()) await h();
    },
  };
}

async function formatted(blocks: number): Promise<RamDisk> {
  const d = new RamDisk({ blockCount: blocks });
  await mkfs(d, { fatType: 16 });
  return d;
}

describe('fat() and ramfs() as components', () => {
  it('mount a RAM root and the disk at /data, provide the VFS, and unmount cleanly at power-off', async () => {
    const disk = await formatted(20000);
    const k = fakeKernel({ vda: disk });
    for (const c of [ramfs(), fat('vda')]) await c.init(k.ctx);
    const fs = vfs(k.ctx);
    expect(k.ctx.get(VfsKey)).toBe(fs);
    expect(fs.mounts()).toEqual([
      { path: '/', type: 'ramfs', readOnly: false },
      { path: '/data', type: 'vfat', readOnly: false },
    ]);
    expect(k.text()).toMatch(/fatfs: vda: FAT16, .* mounted at \/data/);
    await fs.writeFile('/data/hello.txt', new Uint8Array([104, 105]));
    // In use: the volume is marked dirty on the disk (boot sector state bit, FAT[1] clean bit).
    expect(parseBootSector(disk.bytes).state & 1).toBe(1);
    await k.shutdown();
    expect(parseBootSector(disk.bytes).state & 1).toBe(0);
    const fat1 = disk.bytes[parseBootSector(disk.bytes).reservedSectors * 512 + 3];
    expect(fat1 & 0x80).toBe(0x80);
  });

  it('mount where mountPoint says (the key of kernel({ fs: { ... } })), first one at /', async () => {
    const k = fakeKernel({ vda: await formatted(20000), vdb: await formatted(20000) });
    const a = fat('vda');
    const b = fat('vdb');
    b.mountPoint = '/srv/www';
    for (const c of [a, b, ramfs()]) await c.init(k.ctx);
    expect(vfs(k.ctx).mounts().map((m) => `${m.path} ${m.type}`)).toEqual(['/ vfat', '/tmp ramfs', '/srv/www vfat']);
  });

  it('say which device is missing, and refuse a disk without a FAT file system', async () => {
    const k = fakeKernel({ vda: new RamDisk({ blockCount: 100 }) });
    await expect(fat('vdb').init(k.ctx)).rejects.toThrow(/no block device named vdb \(there are: vda\)/);
    await expect(fat('vda').init(k.ctx)).rejects.toMatchObject({ code: 'EIO' });
  });
});
