import type { DeviceTreeNode } from '../../src/index.js';

/** A device-tree node for tests, shaped like @uk/fdt's FdtNode where the walk reads it. */
export class FakeNode implements DeviceTreeNode {
  readonly children: FakeNode[] = [];
  parent: FakeNode | null = null;
  private readonly props = new Map<string, Uint8Array>();

  constructor(
    readonly name: string,
    props: Record<string, Uint8Array> = {},
    children: FakeNode[] = [],
  ) {
    for (const [k, v] of Object.entries(props)) this.props.set(k, v);
    for (const c of children) {
      c.parent = this;
      this.children.push(c);
    }
  }

  prop(name: string): { value: Uint8Array } | undefined {
    const value = this.props.get(name);
    return value === undefined ? undefined : { value };
  }
}

/** Big-endian 32-bit cells. */
export function cells(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v));
  return out;
}

export function str(s: string): Uint8Array {
  return new Uint8Array([...s].map((c) => c.charCodeAt(0)).concat(0));
}

/** The shape of the machine's device tree: QEMU virt's devices under /soc, plus odd cases. */
export function virtTree(ramBase: number, ramSize: number): FakeNode {
  const dev = (name: string, addr: number, size: number, extra: Record<string, Uint8Array> = {}) =>
    new FakeNode(name, { reg: cells(0, addr, 0, size), ...extra });
  return new FakeNode('', { '#address-cells': cells(2), '#size-cells': cells(2) }, [
    new FakeNode('chosen', { bootargs: str('console=ttyS0') }),
    new FakeNode('memory@80000000', { device_type: str('memory'), reg: cells(0, ramBase, 0, ramSize) }),
    new FakeNode('cpus', { '#address-cells': cells(1), '#size-cells': cells(0) }, [new FakeNode('cpu@0', { reg: cells(0) })]),
    new FakeNode('soc', { '#address-cells': cells(2), '#size-cells': cells(2), compatible: str('simple-bus'), ranges: new Uint8Array(0) }, [
      dev('test@100000', 0x10_0000, 0x1000),
      dev('clint@2000000', 0x200_0000, 0x1_0000),
      dev('plic@c000000', 0xc00_0000, 0x60_0000),
      dev('serial@10000000', 0x1000_0000, 0x100),
      dev('virtio_mmio@10001000', 0x1000_1000, 0x1000),
      dev('virtio_mmio@10002000', 0x1000_2000, 0x1000, { status: str('disabled') }),
    ]),
    // A bus whose children sit at bus addresses 0…1 MiB, seen by the CPU at 0x4000_0000.
    new FakeNode('bus@40000000', { '#address-cells': cells(1), '#size-cells': cells(1), ranges: cells(0, 0, 0x4000_0000, 0x10_0000) }, [
      new FakeNode('thing@2000', { reg: cells(0x2000, 0x1000) }),
    ]),
  ]);
}
