import { type Component, type Cpu, InitLevel, type KernelContext, KernelError, type ServiceKey, Services } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { Mmu, PageFault } from '../../vmm/src/mmu/index.js';
import { AddressSpace, AddressSpaceKey, buildKernelSpace, decodeSatp, deviceRegions, paging, sv39 } from '../src/index.js';
import { cells, FakeNode, virtTree } from './support/fake-tree.js';
import { fakeRam, RAM_BASE } from './support/test-frames.js';

const RAM_SIZE = 16 * 2 ** 20;

/** Just enough of a kernel context: the CPU's satp and TLB are the VMM's MMU. */
function boot(component: Component) {
  const { ram, frames } = fakeRam(RAM_SIZE);
  const mmu = new Mmu(ram);
  const services = new Map<string, unknown>([[Services.frames.id, frames]]);
  const cpu = {
    ram,
    setPageTableRoot: (satp: bigint) => mmu.setSatp(satp),
    readPageTableRoot: () => mmu.satp,
    flushTlb: (va?: number) => mmu.flush(va),
  } as unknown as Cpu;
  const ctx = {
    cpu,
    fdt: { root: virtTree(RAM_BASE, RAM_SIZE) },
    provide: <T>(key: ServiceKey<T>, s: T) => services.set(key.id, s),
    get: <T>(key: ServiceKey<T>) => {
      if (!services.has(key.id)) throw new KernelError('ENODEV', `compose ${key.providedBy}`);
      return services.get(key.id) as T;
    },
  } as unknown as KernelContext;
  return { ctx, mmu, frames, ram, services };
}

function fault(f: () => unknown): PageFault {
  try {
    f();
  } catch (e) {
    if (e instanceof PageFault) return e;
    throw e;
  }
  throw new Error('expected a page fault');
}

describe('paging() component', () => {
  it('declares what it is and what it needs', () => {
    const c = paging();
    expect(c).toMatchObject({ name: 'paging', level: InitLevel.Paging, package: '@uk/paging' });
    expect(c.requires).toEqual([Services.frames]);
    expect(c.provides).toEqual([AddressSpaceKey]);
  });

  it('builds the identity map, loads satp and provides the address space', async () => {
    const { ctx, mmu, services } = boot(paging());
    await paging().init(ctx);
    const space = services.get(AddressSpaceKey.id) as AddressSpace;
    expect(space).toBeInstanceOf(AddressSpace);
    expect(mmu.mode).toBe('sv39');
    expect(decodeSatp(mmu.satp).rootAddress).toBe(space.rootAddress);
    // RAM: identity, read/write, with 2 MiB pages.
    for (const pa of [RAM_BASE, RAM_BASE + 0x12345, RAM_BASE + RAM_SIZE - 1]) {
      expect(mmu.translate(pa, 'read')).toBe(pa);
      expect(mmu.translate(pa, 'write')).toBe(pa);
    }
    expect(space.translate(RAM_BASE)?.pageSize).toBe(2 ** 21);
    // Every device window, identity, read/write.
    for (const pa of [0x10_0000, 0x200_ffff, 0xc00_0000, 0xc5f_fffc, 0x1000_0000, 0x1000_00ff, 0x1000_1ffc, 0x4000_2000]) {
      expect(mmu.translate(pa, 'write')).toBe(pa);
    }
    expect(space.translate(0xc00_0000)?.pageSize).toBe(2 ** 21); // the PLIC's 6 MiB
  });

  it('maps nothing executable, nothing that is not a device, and no disabled device', async () => {
    const { ctx, mmu } = boot(paging());
    await paging().init(ctx);
    expect(fault(() => mmu.translate(RAM_BASE, 'execute'))).toMatchObject({ cause: 12, va: RAM_BASE });
    expect(fault(() => mmu.translate(0x1000_0000, 'execute')).cause).toBe(12);
    expect(fault(() => mmu.translate(0, 'read')).cause).toBe(13); // cpu@0's reg is a hart id
    expect(fault(() => mmu.translate(0x1000_2000, 'read')).cause).toBe(13); // disabled
    expect(fault(() => mmu.translate(0x2000, 'read')).cause).toBe(13); // the bus address, not the CPU address
    expect(fault(() => mmu.translate(RAM_BASE + RAM_SIZE, 'write')).cause).toBe(15);
  });

  it('a fault names the address and the cause', async () => {
    const { ctx, mmu } = boot(paging());
    await paging().init(ctx);
    const f = fault(() => mmu.translate(0x2000_0000, 'read'));
    expect(f).toMatchObject({ va: 0x2000_0000, access: 'read', cause: 13, kind: 'page' });
    expect(f.message).toMatch(/load page fault at 0x20000000/);
    const w = fault(() => mmu.translate(0x3000_0000, 'write'));
    expect(w.message).toMatch(/store page fault at 0x30000000.*not mapped/);
  });

  it('Sv48 on request', async () => {
    const { ctx, mmu } = boot(paging({ format: 'sv48' }));
    await paging({ format: 'sv48' }).init(ctx);
    expect(mmu.mode).toBe('sv48');
    expect(mmu.translate(0x1000_0004, 'read')).toBe(0x1000_0004);
  });

  it('needs a frame allocator', async () => {
    const { ctx, services } = boot(paging());
    services.delete(Services.frames.id);
    await expect(async () => paging().init(ctx)).rejects.toThrow(/ENODEV/);
  });

  it('without it the MMU stays off (Bare): addresses are physical', () => {
    const { ram } = fakeRam(RAM_SIZE);
    const mmu = new Mmu(ram);
    expect(mmu.mode).toBe('bare');
    expect(mmu.translate(0x1000_0000, 'execute')).toBe(0x1000_0000);
    expect(mmu.translate(0x7654_3210, 'write')).toBe(0x7654_3210);
  });
});

describe('deviceRegions', () => {
  it('reads reg under the root and through bus ranges, skipping memory, cpus and disabled nodes', () => {
    const regions = deviceRegions(virtTree(RAM_BASE, RAM_SIZE));
    expect(regions.map((r) => [r.node, r.base, r.size])).toEqual([
      ['/soc/test@100000', 0x10_0000, 0x1000],
      ['/soc/clint@2000000', 0x200_0000, 0x1_0000],
      ['/soc/plic@c000000', 0xc00_0000, 0x60_0000],
      ['/soc/serial@10000000', 0x1000_0000, 0x100],
      ['/soc/virtio_mmio@10001000', 0x1000_1000, 0x1000],
      ['/bus@40000000/thing@2000', 0x4000_2000, 0x1000],
    ]);
  });

  it('rejects a malformed reg with the node path', () => {
    const root = new FakeNode('', { '#address-cells': cells(2), '#size-cells': cells(2) }, [new FakeNode('uart@0', { reg: cells(1, 2, 3) })]);
    expect(() => deviceRegions(root)).toThrow(/\/uart@0: reg is 12 bytes/);
  });

  it('merges windows that share a page and leaves RAM to the RAM mapping', () => {
    const { ram, frames } = fakeRam(RAM_SIZE);
    const root = new FakeNode('', { '#address-cells': cells(1), '#size-cells': cells(1) }, [
      new FakeNode('a@1000', { reg: cells(0x1000, 0x10) }),
      new FakeNode('b@1800', { reg: cells(0x1800, 0x10, 0x2000, 0x1000) }),
      new FakeNode('ramdev', { reg: cells(RAM_BASE - 0x1000, 0x2000) }),
    ]);
    const { layout, space } = buildKernelSpace(sv39, ram, frames, root);
    expect(layout.devices).toEqual([
      { base: 0x1000, size: 0x2000 },
      { base: RAM_BASE - 0x1000, size: 0x1000 },
    ]);
    expect(space.translate(RAM_BASE)?.perms).toMatchObject({ read: true, write: true, execute: false, global: true });
  });
});
