import { describe, expect, it } from 'vitest';
import {
  nodeByPhandle,
  phandleOf,
  FdtError,
  type FdtNode,
  addressCells,
  buildFdt,
  chosen,
  compatible,
  interruptParent,
  interrupts,
  interruptsExtended,
  isEnabled,
  parseFdt,
  reg,
  regBig,
  sizeCells,
} from '../src/index.js';
import { readFixture } from './fixture-files.js';

const qemu = parseFdt(readFixture('qemu-virt.dtb'));
const addr = parseFdt(readFixture('addressing.dtb'));
const values = parseFdt(readFixture('values.dtb'));

function at(fdt: typeof qemu, path: string): FdtNode {
  const n = fdt.node(path);
  if (n === undefined) throw new Error(`no node ${path}`);
  return n;
}
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FdtError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('addressing', () => {
  it('reads #address-cells and #size-cells from the parent, with defaults 2 and 1', () => {
    expect([addressCells(at(addr, '/big@100000000')), sizeCells(at(addr, '/big@100000000'))]).toEqual([2, 2]);
    expect([addressCells(at(addr, '/bus32/dev@2000')), sizeCells(at(addr, '/bus32/dev@2000'))]).toEqual([1, 1]);
    expect([addressCells(at(addr, '/bus32/nested/leaf@5')), sizeCells(at(addr, '/bus32/nested/leaf@5'))]).toEqual([1, 0]);
    expect([addressCells(at(addr, '/defaults/child')), sizeCells(at(addr, '/defaults/child'))]).toEqual([2, 1]);
    expect([addressCells(addr.root), sizeCells(addr.root)]).toEqual([2, 1]);
  });

  it('reg with 2 address and 2 size cells', () => {
    expect(reg(at(qemu, '/memory'))).toEqual([{ address: 0x8000_0000, size: 0x400_0000 }]);
    expect(reg(at(qemu, '/soc/serial@10000000'))).toEqual([{ address: 0x1000_0000, size: 0x100 }]);
    expect(reg(at(addr, '/big@100000000'))).toEqual([
      { address: 0x1_0000_0000, size: 0x2_0000_0000 },
      { address: 0x3_0000_0010, size: 0x20 },
    ]);
  });

  it('reg with 1 address and 1 or 0 size cells', () => {
    expect(reg(at(addr, '/bus32/dev@2000'))).toEqual([
      { address: 0x2000, size: 0x100 },
      { address: 0x3000, size: 0x200 },
    ]);
    expect(reg(at(addr, '/bus32/nested/leaf@5'))).toEqual([{ address: 5, size: 0 }]);
    expect(reg(at(qemu, '/cpus/cpu@0'))).toEqual([{ address: 0, size: 0 }]);
  });

  it('reg with default cells and with 3 address cells', () => {
    expect(reg(at(addr, '/defaults/child'))).toEqual([{ address: 1, size: 2 }]);
    expect(regBig(at(addr, '/three-cells/pci@0'))).toEqual([{ address: 0x2000000_00000000_40000000n, size: 0x10000000n }]);
    expect(codeOf(() => reg(at(addr, '/three-cells/pci@0')))).toBe('FDT_BAD_PROPERTY');
  });

  it('regBig keeps values past 2^53; reg refuses them', () => {
    expect(regBig(at(addr, '/huge@ffffffff00000000'))).toEqual([{ address: 0xffffffff_00000000n, size: 0x1000n }]);
    expect(codeOf(() => reg(at(addr, '/huge@ffffffff00000000')))).toBe('FDT_BAD_PROPERTY');
    expect(reg(at(addr, '/bus32'))).toEqual([]);
  });

  it('reg whose length is not a whole number of entries is an error', () => {
    const f = parseFdt(
      buildFdt({
        root: {
          name: '',
          props: { '#address-cells': 1, '#size-cells': 1 },
          children: [
            { name: 'a@0', props: { reg: [0, 1, 2] } },
            { name: 'b', props: { '#address-cells': 9 }, children: [{ name: 'c', props: { reg: [0] } }] },
            { name: 'd', props: { '#address-cells': new Uint8Array(2) }, children: [{ name: 'e', props: { reg: [0] } }] },
            { name: 'f', props: { '#address-cells': 0, '#size-cells': 0 }, children: [{ name: 'g', props: { reg: [0] } }, { name: 'h', props: { reg: true } }] },
          ],
        },
      }),
    );
    expect(codeOf(() => reg(at(f, '/a@0')))).toBe('FDT_BAD_PROPERTY');
    expect(codeOf(() => reg(at(f, '/b/c')))).toBe('FDT_BAD_PROPERTY');
    expect(codeOf(() => regBig(at(f, '/d/e')))).toBe('FDT_BAD_PROPERTY');
    expect(codeOf(() => reg(at(f, '/f/g')))).toBe('FDT_BAD_PROPERTY');
    expect(reg(at(f, '/f/h'))).toEqual([]);
  });
});

describe('interrupts', () => {
  it('inherits interrupt-parent from an ancestor', () => {
    const plic = at(qemu, '/soc/plic@c000000');
    const uart = at(qemu, '/soc/serial@10000000');
    expect(uart.prop('interrupt-parent')).toBeUndefined();
    expect(interruptParent(qemu, uart)).toBe(plic);
    expect(interrupts(qemu, uart)).toEqual([[10]]);
    expect(interruptParent(qemu, at(qemu, '/soc/virtio_mmio@10001000'))).toBe(plic);
    expect(interrupts(qemu, at(qemu, '/soc/virtio_mmio@10003000'))).toEqual([[3]]);
  });

  it('uses the nearest interrupt-parent and the controller\'s #interrupt-cells', () => {
    const rootPic = at(addr, '/pic@f0000000');
    const busPic = at(addr, '/bus32/pic@1000');
    expect(interruptParent(addr, at(addr, '/big@100000000'))).toBe(rootPic);
    expect(interrupts(addr, at(addr, '/big@100000000'))).toEqual([
      [5, 1],
      [6, 4],
    ]);
    expect(interruptParent(addr, at(addr, '/bus32/dev@2000'))).toBe(busPic);
    expect(interrupts(addr, at(addr, '/bus32/dev@2000'))).toEqual([[7], [8]]);
    expect(interrupts(addr, at(addr, '/bus32/nested/leaf@5'))).toEqual([[9]]);
    expect(interruptParent(addr, at(addr, '/bus32/override@4000'))).toBe(rootPic);
    expect(interrupts(addr, at(addr, '/bus32/override@4000'))).toEqual([[10, 2]]);
    expect(interrupts(addr, at(addr, '/defaults/child'))).toEqual([]);
  });

  it('interrupts-extended names a controller per entry', () => {
    const intc = at(qemu, '/cpus/cpu@0/interrupt-controller');
    expect(interruptsExtended(qemu, at(qemu, '/soc/plic@c000000'))).toEqual([
      { controller: intc, specifier: [11] },
      { controller: intc, specifier: [9] },
    ]);
    expect(interruptsExtended(qemu, at(qemu, '/soc/clint@2000000')).map((e) => e.specifier)).toEqual([[3], [7]]);
    const multi = interruptsExtended(addr, at(addr, '/multi'));
    expect(multi.map((e) => [e.controller.path, e.specifier])).toEqual([
      ['/pic@f0000000', [1, 2]],
      ['/bus32/pic@1000', [3]],
    ]);
    expect(interruptsExtended(qemu, at(qemu, '/soc/serial@10000000'))).toEqual([]);
  });

  it('reports broken interrupt descriptions', () => {
    const f = parseFdt(
      buildFdt({
        root: {
          name: '',
          children: [
            { name: 'pic', props: { phandle: 1, '#interrupt-cells': 2, 'interrupt-controller': true } },
            { name: 'nocells', props: { phandle: 2 } },
            { name: 'orphan', props: { interrupts: [1] } },
            { name: 'odd', props: { 'interrupt-parent': 1, interrupts: [1, 2, 3] } },
            { name: 'dangling', props: { 'interrupt-parent': 9, interrupts: [1] } },
            { name: 'ext-missing', props: { 'interrupts-extended': [7, 1] } },
            { name: 'ext-short', props: { 'interrupts-extended': [1, 1] } },
            { name: 'ext-nocells', props: { 'interrupts-extended': [2, 1] } },
            { name: 'loop-a', props: { phandle: 3, 'interrupt-parent': 4, interrupts: [1] } },
            { name: 'loop-b', props: { phandle: 4, 'interrupt-parent': 3 } },
          ],
        },
      }),
    );
    expect(codeOf(() => interrupts(f, at(f, '/orphan')))).toBe('FDT_NOT_FOUND');
    expect(codeOf(() => interrupts(f, at(f, '/odd')))).toBe('FDT_BAD_PROPERTY');
    expect(interruptParent(f, at(f, '/dangling'))).toBeUndefined();
    expect(codeOf(() => interrupts(f, at(f, '/dangling')))).toBe('FDT_NOT_FOUND');
    expect(codeOf(() => interruptsExtended(f, at(f, '/ext-missing')))).toBe('FDT_NOT_FOUND');
    expect(codeOf(() => interruptsExtended(f, at(f, '/ext-short')))).toBe('FDT_BAD_PROPERTY');
    expect(codeOf(() => interruptsExtended(f, at(f, '/ext-nocells')))).toBe('FDT_BAD_PROPERTY');
    expect(interruptParent(f, at(f, '/loop-a'))).toBeUndefined();
  });
});

describe('identity, status, chosen, aliases and phandles', () => {
  it('compatible lists', () => {
    expect(compatible(at(qemu, '/soc/test@100000'))).toEqual(['sifive,test1', 'sifive,test0', 'syscon']);
    expect(compatible(at(qemu, '/soc/plic@c000000'))).toEqual(['sifive,plic-1.0.0', 'riscv,plic0']);
    expect(compatible(at(qemu, '/memory@80000000'))).toEqual([]);
  });

  it('isEnabled: status absent, "okay" or "ok"', () => {
    expect(isEnabled(at(qemu, '/soc/serial@10000000'))).toBe(true);
    expect(isEnabled(at(qemu, '/cpus/cpu@0'))).toBe(true);
    expect(isEnabled(at(qemu, '/soc/virtio_mmio@10004000'))).toBe(false);
    expect(isEnabled(at(values, '/ok@3000'))).toBe(true);
    expect(isEnabled(at(values, '/disabled@2000'))).toBe(false);
    expect(isEnabled(at(values, '/fail@4000'))).toBe(false);
    const f = parseFdt(buildFdt({ root: { name: '', children: [{ name: 'a', props: { status: new Uint8Array([0x6f, 0x6b]) } }] } }));
    expect(isEnabled(at(f, '/a'))).toBe(false);
    expect(qemu.findCompatible('virtio,mmio').filter(isEnabled).length).toBe(7);
  });

  it('chosen', () => {
    expect(chosen(qemu)).toEqual({ bootargs: 'console=ttyS0 root=/dev/vda ro', stdoutPath: '/soc/serial@10000000' });
    expect(qemu.node(chosen(qemu).stdoutPath ?? '')?.name).toBe('serial@10000000');
    expect(chosen(addr)).toEqual({});
    const f = parseFdt(buildFdt({ root: { name: '', children: [{ name: 'chosen', props: { 'linux,stdout-path': 'serial0:115200n8' } }] } }));
    expect(chosen(f)).toEqual({ stdoutPath: 'serial0:115200n8' });
    const bad = parseFdt(buildFdt({ root: { name: '', children: [{ name: 'chosen', props: { bootargs: new Uint8Array([0x61]) } }] } }));
    expect(codeOf(() => chosen(bad))).toBe('FDT_BAD_PROPERTY');
  });

  it('aliases that are not absolute paths resolve to nothing', () => {
    const f = parseFdt(
      buildFdt({
        root: {
          name: '',
          children: [
            { name: 'aliases', props: { rel: 'serial0', cells: [1], list: ['/a', '/b'], good: '/a' } },
            { name: 'a', children: [{ name: 'b@1' }] },
          ],
        },
      }),
    );
    expect(f.node('rel')).toBeUndefined();
    expect(f.node('cells')).toBeUndefined();
    expect(f.node('list')).toBeUndefined();
    expect(f.node('good')?.path).toBe('/a');
    expect(f.node('good/b')?.path).toBe('/a/b@1');
    expect(f.node('good//b@1/')?.path).toBe('/a/b@1');
  });

  it('phandles, including linux,phandle and invalid values', () => {
    expect(phandleOf(at(values, '/node@1000'))).toBe(1);
    expect(nodeByPhandle(values, 1)?.path).toBe('/node@1000');
    expect(values.node('/node@1000')?.prop('ref')?.u32()).toBe(1);
    const f = parseFdt(
      buildFdt({
        root: {
          name: '',
          children: [
            { name: 'old', props: { 'linux,phandle': 5 } },
            { name: 'zero', props: { phandle: 0 } },
            { name: 'ones', props: { phandle: 0xffffffff } },
            { name: 'short', props: { phandle: new Uint8Array(2) } },
          ],
        },
      }),
    );
    expect(nodeByPhandle(f, 5)?.name).toBe('old');
    expect(phandleOf(at(f, '/zero'))).toBeUndefined();
    expect(phandleOf(at(f, '/ones'))).toBeUndefined();
    expect(phandleOf(at(f, '/short'))).toBeUndefined();
    expect(nodeByPhandle(f, 0)).toBeUndefined();
  });
});
