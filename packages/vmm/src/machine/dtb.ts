import { buildFdt, type FdtNodeSpec } from '@uk/fdt';
import { Layout, PLIC_SOURCES, TIMEBASE_HZ } from './layout.js';

const PHANDLE_CPU_INTC = 1;
const PHANDLE_PLIC = 2;
const PHANDLE_TEST = 3;

/** A virtio-mmio slot that holds a device, for the device tree. */
export interface DtbVirtioSlot {
  readonly slot: number;
}

export interface DtbOptions {
  readonly memBytes: number;
  readonly bootargs: string;
  readonly virtio: readonly DtbVirtioSlot[];
  /** Ranges the kernel must not allocate from (the image). */
  readonly reserved: ReadonlyArray<{ address: number; size: number }>;
}

const hex = (n: number) => n.toString(16);
const reg64 = (base: number, size: number) => ({ u64: [base, size] });

/**
 * The flattened device tree of this machine, shaped as QEMU's riscv64 virt board describes
 * itself, listing exactly the devices present.
 */
export function buildMachineDtb(o: DtbOptions): Uint8Array {
  const uartPath = `/soc/serial@${hex(Layout.uart.base)}`;
  const soc: FdtNodeSpec[] = [
    {
      name: `test@${hex(Layout.test.base)}`,
      props: { phandle: PHANDLE_TEST, reg: reg64(Layout.test.base, Layout.test.size), compatible: ['sifive,test1', 'sifive,test0', 'syscon'] },
    },
    {
      name: `serial@${hex(Layout.uart.base)}`,
      props: {
        interrupts: Layout.uart.irq,
        'interrupt-parent': PHANDLE_PLIC,
        'clock-frequency': 0x38_4000,
        reg: reg64(Layout.uart.base, Layout.uart.size),
        compatible: 'ns16550a',
      },
    },
    ...o.virtio.map(({ slot }) => {
      const base = Layout.virtio.base + slot * Layout.virtio.stride;
      return {
        name: `virtio_mmio@${hex(base)}`,
        props: {
          interrupts: Layout.virtio.firstIrq + slot,
          'interrupt-parent': PHANDLE_PLIC,
          reg: reg64(base, Layout.virtio.size),
          compatible: 'virtio,mmio',
        },
      };
    }),
    {
      name: `plic@${hex(Layout.plic.base)}`,
      props: {
        phandle: PHANDLE_PLIC,
        'riscv,ndev': PLIC_SOURCES - 1,
        reg: reg64(Layout.plic.base, Layout.plic.size),
        'interrupts-extended': [PHANDLE_CPU_INTC, 11, PHANDLE_CPU_INTC, 9],
        'interrupt-controller': true,
        compatible: ['sifive,plic-1.0.0', 'riscv,plic0'],
        '#address-cells': 0,
        '#interrupt-cells': 1,
      },
    },
    {
      name: `clint@${hex(Layout.clint.base)}`,
      props: {
        'interrupts-extended': [PHANDLE_CPU_INTC, 3, PHANDLE_CPU_INTC, 7],
        reg: reg64(Layout.clint.base, Layout.clint.size),
        compatible: ['sifive,clint0', 'riscv,clint0'],
      },
    },
  ];
  soc.sort((a, b) => parseInt(a.name.split('@')[1], 16) - parseInt(b.name.split('@')[1], 16));

  return buildFdt({
    bootCpuId: 0,
    memReserve: o.reserved.map((r) => ({ address: r.address, size: r.size })),
    root: {
      name: '',
      props: { '#address-cells': 2, '#size-cells': 2, compatible: 'riscv-virtio', model: 'uk,virt' },
      children: [
        {
          name: 'poweroff',
          props: { value: 0x5555, offset: 0, regmap: PHANDLE_TEST, compatible: 'syscon-poweroff' },
        },
        {
          name: 'reboot',
          props: { value: 0x7777, offset: 0, regmap: PHANDLE_TEST, compatible: 'syscon-reboot' },
        },
        {
          name: 'chosen',
          props: { bootargs: o.bootargs, 'stdout-path': uartPath },
        },
        { name: 'aliases', props: { serial0: uartPath } },
        {
          name: `memory@${hex(Layout.ram.base)}`,
          props: { device_type: 'memory', reg: reg64(Layout.ram.base, o.memBytes) },
        },
        {
          name: 'cpus',
          props: { '#address-cells': 1, '#size-cells': 0, 'timebase-frequency': TIMEBASE_HZ },
          children: [
            {
              name: 'cpu@0',
              props: {
                device_type: 'cpu',
                reg: 0,
                status: 'okay',
                compatible: 'riscv',
                'riscv,isa': 'rv64imafdc',
                'mmu-type': 'riscv,sv48',
              },
              children: [
                {
                  name: 'interrupt-controller',
                  props: {
                    '#interrupt-cells': 1,
                    'interrupt-controller': true,
                    compatible: 'riscv,cpu-intc',
                    phandle: PHANDLE_CPU_INTC,
                  },
                },
              ],
            },
          ],
        },
        {
          name: 'soc',
          props: { '#address-cells': 2, '#size-cells': 2, compatible: 'simple-bus', ranges: true },
          children: soc,
        },
      ],
    },
  });
}
