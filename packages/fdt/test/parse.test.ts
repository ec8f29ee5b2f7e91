import { describe, expect, it } from 'vitest';
import { FdtError, type FdtErrorCode, baseName, buildFdt, nodeByPhandle, parseFdt, phandleOf, readFdtTotalSize, unitAddress } from '../src/index.js';
import { readFixture } from './fixture-files.js';

const qemu = readFixture('qemu-virt.dtb');

function be32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off);
}
function setBe32(b: Uint8Array, off: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(off, v >>> 0);
  return c;
}
function errorOf(f: () => unknown): FdtError {
  try {
    f();
  } catch (e) {
    if (e instanceof FdtError) return e;
    throw e;
  }
  throw new Error('expected an FdtError');
}
function expectCode(bytes: Uint8Array, code: FdtErrorCode): FdtError {
  const e = errorOf(() => parseFdt(bytes));
  expect(e.code).toBe(code);
  expect(e.message).toContain(code);
  return e;
}

/** A blob with a hand-written structure block (and the given strings block). */
function rawBlob(struct: number[], strings = 'x\0', opts: { version?: number; lastComp?: number } = {}): Uint8Array {
  const str = new TextEncoder().encode(strings);
  const structOff = 40 + 16;
  const stringsOff = structOff + struct.length * 4;
  const total = stringsOff + str.length;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  const header = [0xd00dfeed, total, structOff, stringsOff, 40, opts.version ?? 17, opts.lastComp ?? 16, 0, str.length, struct.length * 4];
  header.forEach((v, i) => dv.setUint32(i * 4, v));
  struct.forEach((v, i) => dv.setUint32(structOff + i * 4, v));
  b.set(str, stringsOff);
  return b;
}
const BEGIN = 1;
const END_NODE = 2;
const PROP = 3;
const NOP = 4;
const END = 9;
/** A node-name word: up to 3 ASCII characters and the NUL, padded. */
function nameWord(s: string): number {
  const bytes = [...s].map((c) => c.charCodeAt(0));
  while (bytes.length < 4) bytes.push(0);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

describe('parseFdt on a dtc-compiled QEMU virt tree', () => {
  const fdt = parseFdt(qemu);

  it('reads the header', () => {
    expect(fdt.version).toBe(17);
    expect(fdt.lastCompatibleVersion).toBe(16);
    expect(fdt.bootCpuId).toBe(0);
    expect(fdt.totalSize).toBe(qemu.length);
    expect(fdt.memReserve).toEqual([{ address: 0x8000_0000n, size: 0x20_0000n }]);
  });

  it('builds the tree with names, paths and properties in blob order', () => {
    expect(fdt.root.name).toBe('');
    expect(fdt.root.path).toBe('/');
    expect(fdt.root.parent).toBeNull();
    expect(fdt.root.children.map((c) => c.name)).toEqual(['chosen', 'aliases', 'memory@80000000', 'cpus', 'soc', 'poweroff', 'reboot']);
    const uart = fdt.node('/soc/serial@10000000');
    expect(uart?.path).toBe('/soc/serial@10000000');
    expect(uart && baseName(uart)).toBe('serial');
    expect(uart && unitAddress(uart)).toBe('10000000');
    expect(uart?.parent?.name).toBe('soc');
    expect(uart?.properties.map((p) => p.name)).toEqual(['interrupts', 'clock-frequency', 'reg', 'compatible']);
    expect(uart?.prop('clock-frequency')?.u32()).toBe(0x384000);
    expect(uart?.prop('reg')?.u64(0)).toBe(0x1000_0000n);
    expect(uart?.prop('reg')?.u64(1)).toBe(0x100n);
    expect(uart?.prop('reg')?.cells()).toEqual([0, 0x1000_0000, 0, 0x100]);
    expect(uart?.prop('compatible')?.string()).toBe('ns16550a');
    expect(fdt.node('/soc/test@100000')?.prop('compatible')?.strings()).toEqual(['sifive,test1', 'sifive,test0', 'syscon']);
    expect(fdt.node('/soc/plic@c000000')?.prop('interrupt-controller')?.isEmpty()).toBe(true);
    expect(fdt.node('/cpus')?.prop('timebase-frequency')?.u32()).toBe(10_000_000);
    expect(fdt.node('/cpus/cpu@0/interrupt-controller')?.prop('compatible')?.string()).toBe('riscv,cpu-intc');
  });

  it('finds nodes by path, by base name, by alias and by alias-relative path', () => {
    expect(fdt.node('/memory')?.name).toBe('memory@80000000');
    expect(fdt.node('/soc/virtio_mmio')?.name).toBe('virtio_mmio@10008000');
    expect(fdt.node('/soc/serial@10000001')).toBeUndefined();
    expect(fdt.node('/nope')).toBeUndefined();
    expect(fdt.node('')).toBeUndefined();
    expect(fdt.node('/')).toBe(fdt.root);
    expect(fdt.node('serial0')?.path).toBe('/soc/serial@10000000');
    expect(fdt.node('serial0:115200n8')?.path).toBe('/soc/serial@10000000');
    expect(fdt.node('virtio0')?.path).toBe('/soc/virtio_mmio@10001000');
    expect(fdt.node('nosuchalias')).toBeUndefined();
    expect(fdt.node('/cpus/cpu@0/interrupt-controller')).toBe(fdt.node('/cpus/cpu/interrupt-controller'));
    expect(fdt.aliasPath('serial0')).toBe('/soc/serial@10000000');
  });

  it('looks nodes up by phandle and compatible, and walks in document order', () => {
    const plic = nodeByPhandle(fdt, 3);
    expect(plic?.path).toBe('/soc/plic@c000000');
    expect(phandleOf(plic!)).toBe(3);
    expect(nodeByPhandle(fdt, 0x999)).toBeUndefined();
    expect(fdt.findCompatible('virtio,mmio').map((n) => unitAddress(n))).toEqual([
      '10008000',
      '10007000',
      '10006000',
      '10005000',
      '10004000',
      '10003000',
      '10002000',
      '10001000',
    ]);
    expect(fdt.findCompatible('riscv,clint0').map((n) => n.path)).toEqual(['/soc/clint@2000000']);
    expect(fdt.findCompatible('syscon').map((n) => n.path)).toEqual(['/soc/test@100000']);
    expect(fdt.findCompatible('sifive')).toEqual([]);
    const paths = [...fdt.walk()].map((n) => n.path);
    expect(paths[0]).toBe('/');
    expect(paths.slice(1, 4)).toEqual(['/chosen', '/aliases', '/memory@80000000']);
    expect(paths).toContain('/cpus/cpu-map/cluster0/core0');
    expect(paths.indexOf('/cpus/cpu@0')).toBeLessThan(paths.indexOf('/cpus/cpu@0/interrupt-controller'));
    expect(paths.indexOf('/cpus/cpu@0/interrupt-controller')).toBeLessThan(paths.indexOf('/cpus/cpu-map'));
    expect(paths.length).toBe(new Set(paths).size);
  });

  it('gives values that do not change when the input buffer does', () => {
    const copy = qemu.slice();
    const f = parseFdt(copy);
    copy.fill(0);
    expect(f.node('/chosen')?.prop('bootargs')?.string()).toBe('console=ttyS0 root=/dev/vda ro');
  });

  it('accepts a buffer longer than totalsize', () => {
    const longer = new Uint8Array(qemu.length + 100);
    longer.set(qemu);
    expect(parseFdt(longer).totalSize).toBe(qemu.length);
    expect(readFdtTotalSize(longer)).toBe(qemu.length);
  });
});

describe('property accessors', () => {
  const fdt = parseFdt(buildFdt({ root: { name: '', props: { odd: new Uint8Array([1, 2, 3]), nostr: new Uint8Array([0x61]), e: true, l: ['a', 'b'] } } }));
  const p = (n: string) => fdt.root.prop(n) as NonNullable<ReturnType<typeof fdt.root.prop>>;

  it('throws FDT_BAD_PROPERTY for values of the wrong shape', () => {
    expect(errorOf(() => p('odd').u32()).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('odd').cells()).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('odd').u64()).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('l').u32(1)).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('l').u32(-1)).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('nostr').string()).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('nostr').strings()).code).toBe('FDT_BAD_PROPERTY');
    expect(errorOf(() => p('e').string()).code).toBe('FDT_BAD_PROPERTY');
  });

  it('reads strings and empty values', () => {
    expect(p('e').strings()).toEqual([]);
    expect(p('e').cells()).toEqual([]);
    expect(p('l').string()).toBe('a');
    expect(p('l').strings()).toEqual(['a', 'b']);
    expect(p('l').length).toBe(4);
  });
});

describe('readFdtTotalSize', () => {
  it('reads totalsize and checks the magic', () => {
    expect(readFdtTotalSize(qemu)).toBe(qemu.length);
    expect(readFdtTotalSize(qemu.subarray(0, 8))).toBe(qemu.length);
    expect(errorOf(() => readFdtTotalSize(qemu.subarray(0, 7))).code).toBe('FDT_TRUNCATED');
    expect(errorOf(() => readFdtTotalSize(new Uint8Array(2))).code).toBe('FDT_TRUNCATED');
    expect(errorOf(() => readFdtTotalSize(setBe32(qemu, 0, 0xfeedd00d))).code).toBe('FDT_BAD_MAGIC');
    expect(errorOf(() => readFdtTotalSize(setBe32(qemu, 4, 12))).code).toBe('FDT_BAD_OFFSET');
  });
});

describe('parseFdt rejects malformed headers', () => {
  it('bad magic, short buffers and totalsize', () => {
    expectCode(new Uint8Array(0), 'FDT_TRUNCATED');
    expectCode(qemu.subarray(0, 20), 'FDT_TRUNCATED');
    expectCode(qemu.subarray(0, 39), 'FDT_TRUNCATED');
    expectCode(setBe32(qemu, 0, 0), 'FDT_BAD_MAGIC');
    const e = expectCode(qemu.subarray(0, qemu.length - 1), 'FDT_TRUNCATED');
    expect(e.offset).toBe(4);
    expect(e.message).toMatch(/byte offset 0x4/);
    expectCode(setBe32(qemu, 4, 39), 'FDT_BAD_OFFSET');
  });

  it('versions', () => {
    expectCode(setBe32(qemu, 20, 15), 'FDT_BAD_VERSION');
    expectCode(setBe32(qemu, 24, 18), 'FDT_BAD_VERSION');
    expectCode(setBe32(setBe32(qemu, 20, 16), 24, 17), 'FDT_BAD_VERSION');
    // A newer version that stays compatible with 16 is read.
    expect(parseFdt(setBe32(qemu, 20, 18)).version).toBe(18);
  });

  it('reads a version 16 blob, whose structure block runs to totalsize', () => {
    const v16 = setBe32(setBe32(qemu, 20, 16), 36, 0xffffffff);
    expect(parseFdt(v16).root.children.length).toBe(7);
  });

  it('block offsets and sizes', () => {
    const structOff = be32(qemu, 8);
    const stringsOff = be32(qemu, 12);
    expectCode(setBe32(qemu, 8, qemu.length + 4), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 8, 12), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 8, structOff + 2), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 36, qemu.length), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 36, 0xffffffff), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 12, qemu.length + 1), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 12, 0), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 32, qemu.length - stringsOff + 1), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 16, 4), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 16, 44), 'FDT_BAD_OFFSET');
    expectCode(setBe32(qemu, 16, qemu.length - 8), 'FDT_BAD_OFFSET');
    // A structure block cut short ends before FDT_END.
    expectCode(setBe32(qemu, 36, 64), 'FDT_TRUNCATED');
    // A strings block cut short leaves names unterminated or out of range.
    expectCode(setBe32(qemu, 32, 5), 'FDT_BAD_STRING');
  });

  it('an unterminated memory reservation list', () => {
    const b = qemu.slice();
    const structOff = be32(qemu, 8);
    // Fill every reservation slot up to the end of the blob with non-zero sizes.
    for (let off = 40; off + 16 <= b.length; off += 16) new DataView(b.buffer).setUint32(off + 12, 1);
    expect(structOff).toBeGreaterThan(40);
    expectCode(b, 'FDT_TRUNCATED');
  });
});

describe('parseFdt rejects malformed structure blocks', () => {
  it('accepts a minimal tree, NOPs anywhere and properties after children', () => {
    const f = parseFdt(rawBlob([NOP, BEGIN, 0, NOP, BEGIN, nameWord('a'), END_NODE, PROP, 0, 0, NOP, END_NODE, NOP, END]));
    expect(f.root.children.map((c) => c.name)).toEqual(['a']);
    expect(f.root.properties.map((p) => p.name)).toEqual(['x']);
  });

  it('unknown tokens', () => {
    const e = expectCode(rawBlob([BEGIN, 0, 7, END_NODE, END]), 'FDT_BAD_TOKEN');
    expect(e.offset).toBe(56 + 8);
  });

  it('nesting: END inside a node, END_NODE at depth 0, a second root, no root', () => {
    expectCode(rawBlob([BEGIN, 0, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([BEGIN, 0, END_NODE, END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([BEGIN, 0, END_NODE, BEGIN, 0, END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([NOP, NOP, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([PROP, 0, 0, BEGIN, 0, END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([BEGIN, 0, END_NODE, PROP, 0, 0, END]), 'FDT_BAD_STRUCTURE');
  });

  it('names: a named root, an empty child name, a name without NUL', () => {
    expectCode(rawBlob([BEGIN, nameWord('r'), END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([BEGIN, 0, BEGIN, 0, END_NODE, END_NODE, END]), 'FDT_BAD_STRUCTURE');
    expectCode(rawBlob([BEGIN, 0, BEGIN, 0x61616161], ''), 'FDT_TRUNCATED');
  });

  it('missing FDT_END and truncated properties', () => {
    expectCode(rawBlob([BEGIN, 0, END_NODE]), 'FDT_TRUNCATED');
    expectCode(rawBlob([BEGIN, 0, PROP, 0]), 'FDT_TRUNCATED');
    expectCode(rawBlob([BEGIN, 0, PROP, 100, 0, END_NODE, END]), 'FDT_TRUNCATED');
    expectCode(rawBlob([BEGIN, 0, PROP, 0xffffffff, 0, END_NODE, END]), 'FDT_TRUNCATED');
  });

  it('property names outside the strings block or unterminated', () => {
    expectCode(rawBlob([BEGIN, 0, PROP, 0, 2, END_NODE, END]), 'FDT_BAD_STRING');
    expectCode(rawBlob([BEGIN, 0, PROP, 0, 0xffffffff, END_NODE, END]), 'FDT_BAD_STRING');
    expectCode(rawBlob([BEGIN, 0, PROP, 0, 0, END_NODE, END], 'xyz'), 'FDT_BAD_STRING');
    // Names may start inside another name: dtc shares tails.
    const f = parseFdt(rawBlob([BEGIN, 0, PROP, 0, 1, PROP, 0, 0, END_NODE, END], '#size-cells\0'));
    expect(f.root.properties.map((p) => p.name)).toEqual(['size-cells', '#size-cells']);
  });

  it('caps nesting depth', () => {
    const deep = (n: number) => {
      const s: number[] = [BEGIN, 0];
      for (let i = 0; i < n - 1; i++) s.push(BEGIN, nameWord('n'));
      for (let i = 0; i < n; i++) s.push(END_NODE);
      s.push(END);
      return rawBlob(s);
    };
    expect(parseFdt(deep(64)).root.children.length).toBe(1);
    expectCode(deep(65), 'FDT_BAD_STRUCTURE');
    expectCode(deep(100_000), 'FDT_BAD_STRUCTURE');
  });

  it('stays linear when many names point into one long unterminated run', () => {
    const n = 20_000;
    const s: number[] = [BEGIN, 0];
    for (let i = 0; i < n; i++) s.push(PROP, 0, i);
    s.push(END_NODE, END);
    expectCode(rawBlob(s, 'a'.repeat(n + 10)), 'FDT_BAD_STRING');
  });
});
