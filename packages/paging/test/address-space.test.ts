import { isKernelError } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { AddressSpace, type PageTableFormat, sv39, sv48, x86_64 } from '../src/index.js';
import { fakeRam } from './support/test-frames.js';

const RW = { read: true, write: true, execute: false };
const RX = { read: true, write: false, execute: true };
const MiB = 2 ** 20;
const GiB = 2 ** 30;

function setup(format: PageTableFormat = sv39) {
  const { ram, frames } = fakeRam();
  const flushed: Array<number | undefined> = [];
  const space = new AddressSpace(format, ram, frames, { tlb: { flushTlb: (va) => flushed.push(va) } });
  return { ram, frames, space, flushed };
}

function code(f: () => void): string | undefined {
  try {
    f();
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('AddressSpace', () => {
  for (const format of [sv39, sv48, x86_64]) {
    describe(format.name, () => {
      it('maps 4 KiB pages and translates every byte offset', () => {
        const { space } = setup(format);
        space.map(0x4000_0000, 0x8010_0000, 3 * 4096, RW, { pageSize: 4096 });
        expect(space.translate(0x4000_0000)).toEqual({ pa: 0x8010_0000, perms: { ...RW, user: false, global: false }, pageSize: 4096 });
        expect(space.translate(0x4000_2fff)?.pa).toBe(0x8010_2fff);
        expect(space.translate(0x4000_3000)).toBeUndefined();
        expect(space.translate(0x3fff_ffff)).toBeUndefined();
        expect(space.tablePages).toBe(format.levels);
      });

      it("'auto' uses the largest pages alignment and length allow", () => {
        const { space } = setup(format);
        // 4 KiB head, 2 MiB pages, a 1 GiB page, 2 MiB pages, 4 KiB tail.
        const va = GiB - 2 * MiB - 4096;
        const size = 4096 + 2 * MiB + GiB + 2 * MiB + 4096;
        space.map(va, va + 4 * GiB, size, RW);
        const sizes = space.mappings().map((m) => m.size);
        expect(sizes).toEqual([4096, 2 * MiB, GiB, 2 * MiB, 4096]);
        expect(space.translate(GiB + 12345)).toMatchObject({ pa: 5 * GiB + 12345, pageSize: GiB });
      });

      it('a run of small pages may cross a carry into the high word of the entry', () => {
        const { space } = setup(format);
        for (const edge of [2 ** 32, 2 ** 34]) {
          space.map(edge, edge - 8192, 4 * 4096, RW, { pageSize: 4096 });
          for (let k = 0; k < 4; k++) expect(space.translate(edge + k * 4096 + 12)?.pa).toBe(edge - 8192 + k * 4096 + 12);
        }
      });

      it('does not use a huge page when pa is not aligned like va', () => {
        const { space } = setup(format);
        space.map(0, 4096, 2 * MiB, RW);
        expect(space.mappings()).toHaveLength(512);
      });

      it('refuses to map over a mapping, and leaves the space as it was', () => {
        const { space, frames } = setup(format);
        space.map(0x20_0000, 0x8000_0000, 4096, RW);
        const before = frames.live.size;
        expect(code(() => space.map(0, 0x9000_0000, 4 * MiB, RW))).toBe('EEXIST');
        expect(frames.live.size).toBe(before);
        expect(space.translate(0)).toBeUndefined();
        expect(space.translate(0x20_0000)?.pa).toBe(0x8000_0000);
      });

      it('splits a 1 GiB page when part of it is unmapped, and keeps the rest', () => {
        const { space } = setup(format);
        space.map(GiB, 2 * GiB, GiB, RX);
        expect(space.mappings()).toHaveLength(1);
        space.unmap(GiB + 3 * MiB, 4096);
        expect(space.translate(GiB + 3 * MiB)).toBeUndefined();
        expect(space.translate(GiB + 3 * MiB + 4096)).toMatchObject({ pa: 2 * GiB + 3 * MiB + 4096, pageSize: 4096 });
        expect(space.translate(GiB + 3 * MiB - 1)).toMatchObject({ pa: 2 * GiB + 3 * MiB - 1, pageSize: 4096 });
        expect(space.translate(GiB + 5 * MiB)).toMatchObject({ pa: 2 * GiB + 5 * MiB, pageSize: 2 * MiB });
        expect(space.translate(2 * GiB - 1)).toMatchObject({ pa: 3 * GiB - 1, perms: { read: true, write: false, execute: true } });
        const total = space.mappings().reduce((s, m) => s + m.size, 0);
        expect(total).toBe(GiB - 4096);
      });

      it('splits a 2 MiB page when part of it changes protection', () => {
        const { space } = setup(format);
        space.map(0x4000_0000, 0x8000_0000, 2 * MiB, RW);
        space.protect(0x4000_1000, 4096, RX);
        expect(space.translate(0x4000_1000)?.perms).toMatchObject(RX);
        expect(space.translate(0x4000_0000)?.perms).toMatchObject(RW);
        expect(space.translate(0x4000_2000)?.perms).toMatchObject(RW);
        expect(space.translate(0x4000_1abc)?.pa).toBe(0x8000_1abc);
      });

      it('protecting a whole huge page rewrites it in place', () => {
        const { space } = setup(format);
        space.map(0x4000_0000, 0x8000_0000, 2 * MiB, RW);
        const tables = space.tablePages;
        space.protect(0x4000_0000, 2 * MiB, RX);
        expect(space.tablePages).toBe(tables);
        expect(space.translate(0x4000_0000)).toMatchObject({ pageSize: 2 * MiB, perms: RX });
      });

      it('protect refuses a range with a hole (EFAULT) and changes nothing', () => {
        const { space } = setup(format);
        space.map(0, 0x8000_0000, 8192, RW, { pageSize: 4096 });
        expect(code(() => space.protect(0, 3 * 4096, RX))).toBe('EFAULT');
        expect(space.translate(0)?.perms).toMatchObject(RW);
      });

      it('returns table pages to the allocator once they are empty', () => {
        const { space, frames } = setup(format);
        const initial = frames.freeBytes;
        space.map(3 * GiB, 0x8000_0000, 8 * MiB, RW, { pageSize: 4096 });
        expect(frames.freeBytes).toBeLessThan(initial);
        space.unmap(3 * GiB, 4 * MiB);
        space.unmap(3 * GiB + 4 * MiB, 4 * MiB);
        expect(space.tablePages).toBe(1);
        expect(frames.freeBytes).toBe(initial);
        expect(space.mappings()).toEqual([]);
      });

      it('unmapping holes is fine', () => {
        const { space } = setup(format);
        space.unmap(0, 4 * GiB);
        expect(space.tablePages).toBe(1);
      });

      it('a forced page size must fit va, pa and size', () => {
        const { space } = setup(format);
        expect(code(() => space.map(4096, 0, 2 * MiB, RW, { pageSize: 2 * MiB }))).toBe('EINVAL');
        expect(code(() => space.map(0, 0, 2 * MiB, RW, { pageSize: 8192 }))).toBe('EINVAL');
        space.map(0, 0, 4 * MiB, RW, { pageSize: 2 * MiB });
        expect(space.mappings().map((m) => m.size)).toEqual([2 * MiB, 2 * MiB]);
      });

      it('rejects misaligned and non-canonical ranges', () => {
        const { space } = setup(format);
        const half = 2 ** (format.vaBits - 1);
        expect(code(() => space.map(100, 0, 4096, RW))).toBe('EINVAL');
        expect(code(() => space.map(0, 100, 4096, RW))).toBe('EINVAL');
        expect(code(() => space.map(0, 0, 100, RW))).toBe('EINVAL');
        expect(code(() => space.map(half, 0, 4096, RW))).toBe('EINVAL');
        expect(code(() => space.map(half - 4096, 0, 8192, RW))).toBe('EINVAL');
        expect(code(() => space.map(-4096, 0, 8192, RW))).toBe('EINVAL'); // crosses from the top to 0
        expect(code(() => space.map(-half - 4096, 0, 4096, RW))).toBe('EINVAL');
      });

      it('maps the upper half with negative addresses', () => {
        const { space } = setup(format);
        const half = 2 ** (format.vaBits - 1);
        space.map(-half, 0x8000_0000, 2 * MiB, RW);
        space.map(-4096, 0x8040_0000, 4096, RW);
        expect(space.translate(-half + 5)).toMatchObject({ pa: 0x8000_0005, pageSize: 2 * MiB });
        expect(space.translate(-1)?.pa).toBe(0x8040_0fff);
        expect(space.translate(half - 1)).toBeUndefined();
        expect(space.mappings().map((m) => m.va)).toEqual([-half, -4096]);
      });

      it('rolls back a map that runs out of table frames', () => {
        const { space, frames } = setup(format);
        space.map(0, 0x8000_0000, 4096, RW);
        const live = frames.live.size;
        frames.failAfter = 2;
        expect(code(() => space.map(GiB, 0x8000_0000, 8 * MiB, RW, { pageSize: 4096 }))).toBe('ENOMEM');
        frames.failAfter = undefined;
        expect(frames.live.size).toBe(live);
        expect(space.translate(GiB)).toBeUndefined();
        expect(space.translate(0)?.pa).toBe(0x8000_0000);
      });

      it('flushes the TLB for what changed', () => {
        const { space, flushed } = setup(format);
        space.map(0x1000, 0x8000_0000, 2 * 4096, RW);
        expect(flushed).toEqual([0x1000, 0x2000]);
        flushed.length = 0;
        space.unmap(0, GiB);
        expect(flushed).toEqual([undefined]);
      });

      it('destroy returns every table page', () => {
        const { space, frames } = setup(format);
        space.map(0, 0x8000_0000, 16 * MiB, RW, { pageSize: 4096 });
        space.map(-GiB, 0, GiB, RW);
        space.destroy();
        expect(frames.live.size).toBe(0);
        expect(space.translate(0)).toBeUndefined();
        expect(code(() => space.map(0, 0, 4096, RW))).toBe('EINVAL');
      });
    });
  }

  it('Sv48 maps 512 GiB terapages', () => {
    const { space } = setup(sv48);
    space.map(512 * GiB, 0, 512 * GiB, RW);
    expect(space.translate(512 * GiB + 7)).toMatchObject({ pa: 7, pageSize: 512 * GiB });
    space.unmap(512 * GiB + GiB, GiB);
    expect(space.translate(512 * GiB + GiB)).toBeUndefined();
    expect(space.translate(512 * GiB + 2 * GiB)).toMatchObject({ pa: 2 * GiB, pageSize: GiB });
  });

  it('x86-64 has no 512 GiB pages; satp() is RISC-V only', () => {
    const { space } = setup(x86_64);
    space.map(512 * GiB, 0, 512 * GiB, RW);
    expect(space.translate(512 * GiB)?.pageSize).toBe(GiB);
    expect(code(() => space.satp())).toBe('ENOTSUP');
    expect(space.rootRegister(3)).toBe(BigInt(space.rootAddress) | 3n);
  });

  it('rejects permissions the format cannot hold', () => {
    expect(code(() => setup(sv39).space.map(0, 0, 4096, { read: false, write: true, execute: false }))).toBe('EINVAL');
    expect(code(() => setup(x86_64).space.map(0, 0, 4096, { read: false, write: false, execute: true }))).toBe('EINVAL');
  });

  it('writes its tables into RAM as little-endian 64-bit words', () => {
    const { space, ram } = setup(sv39);
    space.map(0, 0x8000_0000, GiB, RW);
    const dv = new DataView(ram.bytes.buffer);
    const root = space.rootAddress - ram.base;
    expect(dv.getBigUint64(root, true)).toBe(sv39.encodeLeaf(0x8000_0000, RW, 2));
    expect(space.satp()).toBe((8n << 60n) | BigInt(space.rootAddress / 4096));
  });
});
