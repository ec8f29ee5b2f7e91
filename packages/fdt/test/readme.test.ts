import { expect, it } from 'vitest';
import { buildFdt, chosen, interrupts, parseFdt, reg, toDts } from '../src/index.js';

it('the README example does what it says', () => {
  const dtb = buildFdt({
    root: {
      name: '',
      props: { '#address-cells': 2, '#size-cells': 2 },
      children: [
        { name: 'chosen', props: { bootargs: 'quiet', 'stdout-path': '/uart@10000000' } },
        { name: 'pic', props: { phandle: 1, '#interrupt-cells': 1, 'interrupt-controller': true } },
        { name: 'uart@10000000', props: { compatible: 'ns16550a', reg: { u64: [0x1000_0000, 0x100] }, 'interrupt-parent': 1, interrupts: 10 } },
      ],
    },
  });
  const fdt = parseFdt(dtb);
  const [uart] = fdt.findCompatible('ns16550a');
  expect(reg(uart)).toEqual([{ address: 0x1000_0000, size: 0x100 }]);
  expect(interrupts(fdt, uart)).toEqual([[10]]);
  expect(chosen(fdt).bootargs).toBe('quiet');
  expect(toDts(fdt)).toContain('\tuart@10000000 {\n\t\tcompatible = "ns16550a";\n\t\treg = <0x00 0x10000000 0x00 0x100>;');
});
