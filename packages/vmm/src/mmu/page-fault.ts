/** The kind of access being translated. */
export type Access = 'read' | 'write' | 'execute';

/**
 * `mcause` codes of the faults translation raises (RISC-V privileged specification, table of
 * exception codes): a page fault when the tables deny the access, an access fault when the
 * walk itself would have to read outside RAM.
 */
export const FaultCause = {
  InstructionAccessFault: 1,
  LoadAccessFault: 5,
  StoreAccessFault: 7,
  InstructionPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;
export type FaultCause = (typeof FaultCause)[keyof typeof FaultCause];

const NAMES: Record<FaultCause, string> = {
  1: 'instruction access fault',
  5: 'load access fault',
  7: 'store access fault',
  12: 'instruction page fault',
  13: 'load page fault',
  15: 'store page fault',
};

/** 'load page fault' for 13, as the specification names the cause. */
export function faultName(code: number): string {
  return NAMES[code as FaultCause] ?? `exception ${code}`;
}

/** Thrown by {@link Mmu.translate}: the access cannot proceed. `va` goes to `mtval`, `cause` to `mcause`. */
export class PageFault extends Error {
  constructor(
    readonly va: number,
    readonly access: Access,
    override readonly cause: FaultCause,
    readonly reason: string,
  ) {
    super(`${NAMES[cause]} at ${hexVa(va)} (${access}): ${reason}`);
    this.name = 'PageFault';
  }

  /** The `mcause` code, under the name the hart's traps use. */
  get code(): FaultCause {
    return this.cause;
  }

  /** The faulting virtual address (`mtval`), under the name the hart's traps use. */
  get addr(): number {
    return this.va;
  }

  /** 'page' for a page fault, 'access' when the walk left RAM. */
  get kind(): 'page' | 'access' {
    return this.cause >= 12 ? 'page' : 'access';
  }
}

/** A virtual address as its 64-bit hexadecimal form (negative numbers are upper-half addresses). */
export function hexVa(va: number): string {
  if (!Number.isSafeInteger(va)) return String(va);
  return `0x${BigInt.asUintN(64, BigInt(va)).toString(16)}`;
}
