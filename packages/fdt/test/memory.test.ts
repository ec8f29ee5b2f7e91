import { describe, expect, it } from 'vitest';
import { buildFdt, parseFdt, usableMemory } from '../src/index.js';

describe('usable memory', () => {
  it('is RAM less the reservations, the reserved-memory nodes and the device tree, in whole pages', () => {
    const blob = buildFdt({
      memReserve: [{ address: 0x8020_0000, size: 0x5000 }],
      root: {
        name: '',
        props: { '#address-cells': 2, '#size-cells': 2 },
        children: [
          { name: 'memory@80000000', props: { device_type: 'memory', reg: { u64: [0x8000_0000, 0x400_0000] } } },
          {
            name: 'reserved-memory',
            props: { '#address-cells': 2, '#size-cells': 2, ranges: true },
            children: [{ name: 'fw@80000000', props: { reg: { u64: [0x8000_0000, 0x1000] } } }],
          },
        ],
      },
    });
    const fdt = parseFdt(blob);
    const dtb = 0x8400_0000 - 0x1000;
    expect(usableMemory(fdt, [{ base: dtb, size: 100 }])).toEqual([
      { base: 0x8000_1000, size: 0x8020_0000 - 0x8000_1000 },
      { base: 0x8020_5000, size: dtb - 0x8020_5000 },
    ]);
  });
});
