import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FdtError, type FdtNode, type FdtNodeSpec, type FdtSpec, type FdtValue, buildFdt, fdtToSpec, parseFdt, toDts } from '../src/index.js';
import { dtbToDts, dtcPrintsLike16, dtsToDtb, hasDtc } from './dtc.js';
import { FIXTURES, readFixture } from './fixture-files.js';

/** The VMM's machine, written the way the VMM writes it. */
function virtMachine(memBytes: number, virtioSlots: number): FdtSpec {
  const virtio: FdtNodeSpec[] = [];
  for (let n = virtioSlots - 1; n >= 0; n--) {
    const base = 0x1000_1000 + n * 0x1000;
    virtio.push({
      name: `virtio_mmio@${base.toString(16)}`,
      props: { interrupts: 1 + n, reg: { u64: [base, 0x1000] }, compatible: 'virtio,mmio' },
    });
  }
  return {
    memReserve: [{ address: 0x8000_0000n, size: 0x20_0000 }],
    root: {
      name: '',
      props: { '#address-cells': 2, '#size-cells': 2, compatible: 'riscv-virtio', model: 'riscv-virtio,qemu' },
      children: [
        { name: 'chosen', props: { bootargs: 'console=ttyS0 quiet', 'stdout-path': '/soc/serial@10000000' } },
        { name: 'aliases', props: { serial0: '/soc/serial@10000000' } },
        { name: 'memory@80000000', props: { device_type: 'memory', reg: { u64: [0x8000_0000, memBytes] } } },
        {
          name: 'cpus',
          props: { '#address-cells': 1, '#size-cells': 0, 'timebase-frequency': 10_000_000 },
          children: [
            {
              name: 'cpu@0',
              props: { device_type: 'cpu', reg: 0, status: 'okay', compatible: 'riscv', 'riscv,isa': 'rv64imafdc', 'mmu-type': 'riscv,sv39' },
              children: [
                {
                  name: 'interrupt-controller',
                  props: { '#address-cells': 0, '#interrupt-cells': 1, 'interrupt-controller': true, compatible: 'riscv,cpu-intc', phandle: 1 },
                },
              ],
            },
          ],
        },
        {
          name: 'soc',
          props: { '#address-cells': 2, '#size-cells': 2, compatible: 'simple-bus', ranges: true, 'interrupt-parent': 2 },
          children: [
            { name: 'test@100000', props: { compatible: ['sifive,test1', 'sifive,test0', 'syscon'], reg: [0, 0x10_0000, 0, 0x1000], phandle: 3 } },
            ...virtio,
            { name: 'serial@10000000', props: { interrupts: 10, 'clock-frequency': 0x38_4000, reg: [0, 0x1000_0000, 0, 0x100], compatible: 'ns16550a' } },
            {
              name: 'plic@c000000',
              props: [
                ['phandle', 2],
                ['riscv,ndev', 0x35],
                ['reg', [0, 0xc00_0000, 0, 0x60_0000]],
                ['interrupts-extended', [1, 11, 1, 9]],
                ['interrupt-controller', true],
                ['compatible', ['sifive,plic-1.0.0', 'riscv,plic0']],
                ['#address-cells', 0],
                ['#interrupt-cells', 1],
              ],
            },
            { name: 'clint@2000000', props: { 'interrupts-extended': [1, 3, 1, 7], reg: [0, 0x200_0000, 0, 0x1_0000], compatible: ['sifive,clint0', 'riscv,clint0'] } },
          ],
        },
        { name: 'poweroff', props: { value: 0x5555, offset: 0, regmap: 3, compatible: 'syscon-poweroff' } },
      ],
    },
  };
}

/** Independent encoding of a value, to check what the builder wrote. */
function expectedBytes(v: FdtValue): Uint8Array {
  const enc = new TextEncoder();
  if (v === true) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return enc.encode(`${v}\0`);
  if (typeof v === 'number') return expectedBytes([v]);
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return enc.encode((v as string[]).map((s) => `${s}\0`).join(''));
    const out = new Uint8Array(v.length * 4);
    (v as number[]).forEach((c, i) => new DataView(out.buffer).setUint32(i * 4, c >>> 0));
    return out;
  }
  const out = new Uint8Array(v.u64.length * 8);
  v.u64.forEach((x, i) => new DataView(out.buffer).setBigUint64(i * 8, BigInt.asUintN(64, BigInt(x))));
  return out;
}

function entries(spec: FdtNodeSpec): Array<readonly [string, FdtValue]> {
  if (spec.props === undefined) return [];
  return Array.isArray(spec.props) ? [...spec.props] : Object.entries(spec.props);
}

/** The parsed node holds exactly what the spec asked for, in order. */
function expectMatches(node: FdtNode, spec: FdtNodeSpec): void {
  expect(node.name).toBe(spec.name === '/' ? '' : spec.name);
  const want = entries(spec);
  expect(node.properties.map((p) => p.name)).toEqual(want.map((e) => e[0]));
  want.forEach(([, v], i) => {
    const p = node.properties[i];
    expect([...p.value]).toEqual([...expectedBytes(v)]);
    if (typeof v === 'string') expect(p.string()).toBe(v);
    if (Array.isArray(v) && typeof v[0] === 'string') expect(p.strings()).toEqual(v);
  });
  const kids = spec.children ?? [];
  expect(node.children.length).toBe(kids.length);
  kids.forEach((k, i) => expectMatches(node.children[i], k));
}

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FdtError) return e.code;
    throw e;
  }
  return 'no error';
}

// Names dtc takes without a warning: the 'p' and 'n' prefixes keep properties and nodes
// apart, and a property name ending in '0' cannot be one dtc checks (pwms, clocks, *-gpios).
const tail = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-,._+'.split('')), maxLength: 8 });
const propName = tail.map((t) => `p${t}0`);
const nodeName = tail.map((t) => `n${t}`);
const text = fc.string({ unit: fc.oneof(fc.constant('a'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const value: fc.Arbitrary<FdtValue> = fc.oneof(
  fc.uint8Array({ maxLength: 13 }),
  text,
  fc.array(text, { minLength: 1, maxLength: 4 }),
  u32,
  fc.array(u32, { maxLength: 5 }),
  fc.record({ u64: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 3 }) }),
  fc.constant(true as const),
);
const props = fc.uniqueArray(fc.tuple(propName, value), { selector: (e) => e[0], maxLength: 5 }).map((es) => Object.fromEntries(es) as Record<string, FdtValue>);
const { tree } = fc.letrec<{ tree: FdtNodeSpec; node: FdtNodeSpec }>((tie) => ({
  tree: fc.record({ name: fc.constant(''), props, children: fc.uniqueArray(tie('node'), { selector: (n) => n.name, maxLength: 4 }) }),
  node: fc.record({
    name: nodeName,
    props,
    children: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant<FdtNodeSpec[]>([]), fc.uniqueArray(tie('node'), { selector: (n) => n.name, maxLength: 3 })),
  }),
}));
const spec: fc.Arbitrary<FdtSpec> = fc.record({
  root: tree,
  bootCpuId: u32,
  memReserve: fc.array(
    fc.record({ address: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), size: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }) }),
    { maxLength: 3 },
  ),
});

describe('buildFdt', () => {
  it('writes a version 17 blob laid out like dtc: header, reservations, structure, strings', () => {
    const b = buildFdt(virtMachine(64 << 20, 8));
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(0)).toBe(0xd00dfeed);
    expect(dv.getUint32(4)).toBe(b.length);
    expect(dv.getUint32(16)).toBe(40);
    expect(dv.getUint32(8)).toBe(40 + 2 * 16);
    expect(dv.getUint32(20)).toBe(17);
    expect(dv.getUint32(24)).toBe(16);
    expect(dv.getUint32(8) + dv.getUint32(36)).toBe(dv.getUint32(12));
    expect(dv.getUint32(12) + dv.getUint32(32)).toBe(b.length);
  });

  it('round-trips the machine spec through parseFdt', () => {
    const s = virtMachine(128 << 20, 8);
    const f = parseFdt(buildFdt(s));
    expectMatches(f.root, s.root);
    expect(f.memReserve).toEqual([{ address: 0x8000_0000n, size: 0x20_0000n }]);
    expect(f.findCompatible('virtio,mmio').length).toBe(8);
  });

  it('stores each property name once, sharing tails of longer names as dtc does', () => {
    const b = buildFdt({ root: { name: '', props: { '#size-cells': 1, 'size-cells': 2, cells: 3, s: 4 }, children: [{ name: 'a', props: { '#size-cells': 5 } }] } });
    const dv = new DataView(b.buffer);
    const strings = new TextDecoder().decode(b.subarray(dv.getUint32(12), dv.getUint32(12) + dv.getUint32(32)));
    expect(strings).toBe('#size-cells\0');
    const f = parseFdt(b);
    expect(f.root.properties.map((p) => [p.name, p.u32()])).toEqual([
      ['#size-cells', 1],
      ['size-cells', 2],
      ['cells', 3],
      ['s', 4],
    ]);
  });

  it('keeps property order when given as pairs, including index-like names', () => {
    const f = parseFdt(buildFdt({ root: { name: '/', props: [['z', 1], ['10', 2], ['a', 3]] } }));
    expect(f.root.properties.map((p) => p.name)).toEqual(['z', '10', 'a']);
    const back = fdtToSpec(f);
    expect(Array.isArray(back.root.props)).toBe(true);
    expect(parseFdt(buildFdt(back)).root.properties.map((p) => p.name)).toEqual(['z', '10', 'a']);
  });

  it('encodes negative cells and u64 values as two\'s complement', () => {
    const f = parseFdt(buildFdt({ root: { name: '', props: { c: -1, l: [-2, 3], w: { u64: [-1, 2n ** 63n] } } } }));
    expect(f.root.prop('c')?.u32()).toBe(0xffffffff);
    expect(f.root.prop('l')?.cells()).toEqual([0xfffffffe, 3]);
    expect(f.root.prop('w')?.u64(0)).toBe(2n ** 64n - 1n);
    expect(f.root.prop('w')?.u64(1)).toBe(2n ** 63n);
  });

  it('rejects what would make a broken tree', () => {
    const root = (over: Partial<FdtNodeSpec>): FdtSpec => ({ root: { name: '', ...over } });
    expect(errorCode(() => buildFdt({ root: { name: 'x' } }))).toBe('FDT_BAD_STRUCTURE');
    expect(errorCode(() => buildFdt(root({ children: [{ name: '' }] })))).toBe('FDT_BAD_STRUCTURE');
    expect(errorCode(() => buildFdt(root({ children: [{ name: 'a/b' }] })))).toBe('FDT_BAD_STRUCTURE');
    expect(errorCode(() => buildFdt(root({ children: [{ name: 'a' }, { name: 'a' }] })))).toBe('FDT_BAD_STRUCTURE');
    expect(errorCode(() => buildFdt(root({ props: [['a', 1], ['a', 2]] })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { '': 1 } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: 1.5 } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: 2 ** 32 } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: [1, Number.NaN] } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: 'x\0y' } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: ['x', 1] as unknown as string[] } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: { u64: [2n ** 64n] } } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: false as unknown as true } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt(root({ props: { a: null as unknown as true } })))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt({ root: { name: '' }, bootCpuId: -1 }))).toBe('FDT_BAD_PROPERTY');
    expect(errorCode(() => buildFdt({ root: { name: '' }, memReserve: [{ address: 0, size: 0 }] }))).toBe('FDT_BAD_STRUCTURE');
    expect(errorCode(() => buildFdt({ root: { name: '' }, memReserve: [{ address: 2n ** 64n, size: 1 }] }))).toBe('FDT_BAD_PROPERTY');
    let deep: FdtNodeSpec = { name: 'leaf' };
    for (let i = 0; i < 70; i++) deep = { name: 'n', children: [deep] };
    expect(errorCode(() => buildFdt(root({ children: [deep] })))).toBe('FDT_BAD_STRUCTURE');
  });

  it('round-trips random trees: parse(build(spec)) holds the spec', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const f = parseFdt(buildFdt(s));
        expectMatches(f.root, s.root);
        expect(f.bootCpuId).toBe(s.bootCpuId);
        expect(f.memReserve).toEqual((s.memReserve ?? []).map((r) => ({ address: BigInt(r.address), size: BigInt(r.size) })));
        // And build(parse(x)) gives back the same bytes.
        expect(buildFdt(fdtToSpec(f))).toEqual(buildFdt(s));
      }),
      { numRuns: 300 },
    );
  });

  for (const name of FIXTURES) {
    it(`${name}: build(parse(dtc output)) is byte-identical to dtc's blob`, () => {
      const dtb = readFixture(`${name}.dtb`);
      expect(Buffer.from(buildFdt(fdtToSpec(parseFdt(dtb)))).equals(Buffer.from(dtb))).toBe(true);
    });
  }
});

describe.runIf(hasDtc)('buildFdt against dtc', () => {
  /** dtc reads our blob cleanly, prints what toDts prints, and compiles that back to our bytes. */
  function checkWithDtc(s: FdtSpec): void {
    const ours = buildFdt(s);
    const out = dtbToDts(ours);
    expect(out.status).toBe(0);
    expect(out.stderr).toBe('');
    const dts = toDts(parseFdt(ours));
    if (dtcPrintsLike16) expect(dts).toBe(out.dts);
    const again = dtsToDtb(dts, ['-b', String(s.bootCpuId ?? 0)]);
    expect(Buffer.from(again).equals(Buffer.from(ours))).toBe(true);
  }

  it('the VMM machine', () => {
    checkWithDtc(virtMachine(64 << 20, 8));
    checkWithDtc(virtMachine(0x1_0000_0000, 1));
  });

  it('random trees', () => {
    fc.assert(
      fc.property(spec, (s) => checkWithDtc(s)),
      { numRuns: Number(process.env.UK_DTC_CASES ?? 60) },
    );
  });
});
