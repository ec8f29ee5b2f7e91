import { type Component, InitLevel, type KernelContext, Services, serviceKey } from '@uk/hal';
import type { PageTableFormat } from '../format/format.js';
import { sv39, sv48 } from '../format/riscv.js';
import type { AddressSpace } from '../space/address-space.js';
import { buildKernelSpace } from './kernel-space.js';

/** The kernel's address space, for components that map more (DMA windows, guard pages...). */
export const AddressSpaceKey = serviceKey<AddressSpace>('address-space', 'paging() from @uk/paging');

export interface PagingOptions {
  /** Page-table format; Sv39 (the default) is what every RV64 machine with paging has. */
  readonly format?: 'sv39' | 'sv48';
}

/**
 * Turns the MMU on: builds the kernel's identity map of RAM and devices (see
 * {@link buildKernelSpace}), writes `satp` and flushes the TLB. Without this component the
 * machine runs with `satp` in Bare mode and addresses are physical.
 */
export function paging(opts: PagingOptions = {}): Component {
  const format: PageTableFormat = opts.format === 'sv48' ? sv48 : sv39;
  return {
    name: 'paging',
    level: InitLevel.Paging,
    package: '@uk/paging',
    requires: [Services.frames],
    provides: [AddressSpaceKey],
    init(ctx: KernelContext): void {
      const { cpu } = ctx;
      const { space } = buildKernelSpace(format, cpu.ram, ctx.get(Services.frames), ctx.fdt.root, cpu);
      cpu.setPageTableRoot(space.satp());
      cpu.flushTlb();
      ctx.provide(AddressSpaceKey, space);
    },
  };
}
