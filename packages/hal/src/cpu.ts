/**
 * The CPU interface: everything the kernel may touch of the machine. A kernel sees exactly
 * what a RISC-V hart sees — RAM, device registers, traps, `wfi`, `satp` and `rdtime` — and
 * nothing of the host it happens to run on.
 */

/** Guest RAM as the CPU and every DMA-capable device see it. */
export interface Ram {
  /** Physical address of the first byte (0x8000_0000 on the virt board). */
  readonly base: number;
  /** Bytes of RAM. */
  readonly size: number;
  /** The whole of RAM, index 0 = physical address `base`. Shared with the devices (DMA). */
  readonly bytes: Uint8Array;
}

/** Memory-mapped I/O. Addresses are virtual once paging is on, physical before. */
export interface Mmio {
  /** Reads one byte of a device register. */
  read8(addr: number): number;
  /** Reads a 16-bit register (little-endian). */
  read16(addr: number): number;
  /** Reads a 32-bit register (little-endian), as an unsigned number. */
  read32(addr: number): number;
  /** Writes one byte of a device register. */
  write8(addr: number, value: number): void;
  /** Writes a 16-bit register. */
  write16(addr: number, value: number): void;
  /** Writes a 32-bit register. */
  write32(addr: number, value: number): void;
}

/** Interrupt causes, numbered as in the RISC-V `mcause` register (interrupt bit clear). */
export const Interrupt = {
  /** MSI: the CLINT's `msip`. */
  MachineSoftware: 3,
  /** MTI: the CLINT's `mtime` reached `mtimecmp`. */
  MachineTimer: 7,
  /** MEI: the PLIC has a source to claim. */
  MachineExternal: 11,
} as const;
/** One of the {@link Interrupt} codes. */
export type InterruptCode = (typeof Interrupt)[keyof typeof Interrupt];

/** `mie` bits, by the same numbering. */
export const InterruptEnable = {
  /** MSIE. */
  MachineSoftware: 1 << 3,
  /** MTIE. */
  MachineTimer: 1 << 7,
  /** MEIE. */
  MachineExternal: 1 << 11,
} as const;

/** Exception causes, numbered as in `mcause` (RISC-V privileged specification, table 3.6). */
export const Exception = {
  /** An instruction fetch from where nothing answers. */
  InstructionAccessFault: 1,
  /** A read where no device answers (or a page-table walk outside RAM). */
  LoadAccessFault: 5,
  /** A write where no device answers (or a page-table walk outside RAM). */
  StoreAccessFault: 7,
  /** The page tables deny an instruction fetch. */
  InstructionPageFault: 12,
  /** The page tables deny a read. */
  LoadPageFault: 13,
  /** The page tables deny a write. */
  StorePageFault: 15,
} as const;
/** One of the {@link Exception} codes. */
export type ExceptionCode = (typeof Exception)[keyof typeof Exception];

/** 'load page fault' for 13: the words of the specification, for reports a person reads. */
export function exceptionName(code: number): string {
  const name = Object.keys(Exception).find((k) => Exception[k as keyof typeof Exception] === code);
  return name === undefined ? `exception ${code}` : name.replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : ` ${c.toLowerCase()}`));
}

/** What the trap handler is called with: an interrupt, or an exception with its address and reason. */
export type Trap =
  | {
      /** An interrupt, taken while the kernel waits in `wfi`. */
      readonly kind: 'interrupt';
      /** Its cause (`mcause`). */
      readonly code: InterruptCode;
    }
  | {
      /** An exception, raised by the access that caused it. */
      readonly kind: 'exception';
      /** Its cause (`mcause`). */
      readonly code: ExceptionCode;
      /** The faulting address (`mtval`). */
      readonly addr: number;
      /** What the machine knows about why, e.g. "no device at this address". */
      readonly reason: string;
    };

/**
 * Called for every trap. Interrupts arrive only while the kernel waits in `wfi`; an
 * exception arrives synchronously from the access that caused it, and that access then
 * throws an Error named `MachineCheck`, so the faulting code cannot carry on with a made-up
 * value; the machine then stops and reports the fault.
 */
export type TrapHandler = (trap: Trap) => void;

/**
 * The one hart the kernel runs on, as the machine hands it to the image's entry: the only
 * way kernel code reaches the machine.
 */
export interface Cpu {
  /** The hart this code runs on (`mhartid`). */
  readonly hartId: number;
  /** Physical RAM, shared with the devices (DMA). */
  readonly ram: Ram;
  /** Device registers. */
  readonly mmio: Mmio;
  /** Installs the one trap handler (`mtvec`). */
  setTrapHandler(handler: TrapHandler): void;
  /** Sets `mie`: which interrupt causes may be taken (see {@link InterruptEnable}). */
  setInterruptEnable(mask: number): void;
  /**
   * Wait for an interrupt. Resolves after the pending interrupts (if any) have been given to
   * the trap handler. The machine sleeps only once the kernel has nothing left to run — every
   * promise the kernel could settle has settled — and at the latest until `deadline`
   * (ns since boot), if given.
   */
  wfi(deadline?: number): Promise<void>;
  /** `rdtime`, in nanoseconds since the machine was switched on. */
  readTime(): number;
  /** Writes `satp` (MODE, ASID, PPN). Mode 0 (Bare) switches translation off. */
  setPageTableRoot(satp: bigint): void;
  /** Reads `satp`. */
  readPageTableRoot(): bigint;
  /** `sfence.vma`: drops cached translations, all of them or those for one address. */
  flushTlb(va?: number): void;
}

/** What the machine hands to the image's entry, as a0/a1 are set by firmware on RISC-V. */
export interface BootInfo {
  /** The boot hart (`a0`). */
  readonly hartId: number;
  /** Physical address of the flattened device tree. */
  readonly dtb: number;
}

/** The one export an image provides: the function the machine enters. */
export interface ImageEntry {
  /** Boots the kernel; it powers the machine off and never settles. */
  start(cpu: Cpu, boot: BootInfo): Promise<void>;
}
