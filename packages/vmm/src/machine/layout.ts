/**
 * The memory map of QEMU's riscv64 `virt` board, which uk's machine reproduces so that the
 * same kernel and the same device-tree parser serve both.
 */
export const Layout = {
  test: { base: 0x0010_0000, size: 0x1000 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart: { base: 0x1000_0000, size: 0x100, irq: 10 },
  virtio: { base: 0x1000_1000, stride: 0x1000, size: 0x1000, slots: 8, firstIrq: 1 },
  ram: { base: 0x8000_0000 },
} as const;

/** CLINT `mtime` frequency, as on QEMU's virt board (10 MHz). */
export const TIMEBASE_HZ = 10_000_000;
export const NS_PER_TICK = 1e9 / TIMEBASE_HZ;

/** Where the image's bytes are placed in RAM, as firmware loads a kernel at 2 MiB. */
export const IMAGE_OFFSET = 0x20_0000;

/** Number of PLIC interrupt sources (QEMU: 96, i.e. riscv,ndev = 95). */
export const PLIC_SOURCES = 96;
/** PLIC contexts: 0 = hart 0 machine mode, 1 = hart 0 supervisor mode. */
export const PLIC_CONTEXTS = 2;

export const DEFAULT_MEM = 64 * 1024 * 1024;
