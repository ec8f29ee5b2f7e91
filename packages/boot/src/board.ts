export { virtBase, virtIrq, virtClock } from '@uk/plat-virt';

/**
 * The board `uk build` composes for a kernel that names no platform: the base (console and
 * power-off) always, and the driver for each service some composed component requires — so a
 * kernel that never takes an interrupt links no interrupt controller. Data, so that the build
 * reads it without running kernel code; the factories are exported beside it from @uk/boot.
 */
export const DEFAULT_BOARD = {
  base: 'virtBase',
  byService: { irq: 'virtIrq', clock: 'virtClock' } as Readonly<Record<string, string>>,
} as const;
