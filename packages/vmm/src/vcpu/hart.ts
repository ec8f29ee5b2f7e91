import type { Clint } from '../devices/clint.js';
import { PageFault } from '../mmu/index.js';

/**
 * The hart: the object the kernel receives as its CPU. It is the same code in both execution
 * modes; only how MMIO reaches the devices (`MmioPort`) and how the hart sleeps in `wfi`
 * (`Sleeper`) differ.
 *
 * Its shape is `Cpu` of @uk/hal. The VMM does not import kernel packages, so the type is
 * restated here structurally and a test checks that both agree.
 */

export type AccessSize = 1 | 2 | 4;

/** Trap descriptions, numbered as mcause. */
export type HartTrap =
  | { readonly kind: 'interrupt'; readonly code: 3 | 7 | 11 }
  | { readonly kind: 'exception'; readonly code: number; readonly addr: number; readonly reason: string };

export interface MmioPort {
  /** Throws a fault description ({ code, reason }) through `HartFault` for a bad access. */
  read(pa: number, size: AccessSize): number;
  write(pa: number, size: AccessSize, value: number): void;
  /** Makes every posted write take effect before the hart sleeps or reports. */
  sync(): void;
}

/** Thrown by a port or the MMU for an access that faults. */
export class HartFault extends Error {
  constructor(
    readonly code: number,
    readonly addr: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'HartFault';
  }
}

/** Thrown into guest code after an exception has been delivered, so that it cannot carry on. */
export class MachineCheck extends Error {
  constructor(readonly trap: HartTrap) {
    super(trap.kind === 'exception' ? `machine check: exception ${trap.code} at 0x${trap.addr.toString(16)}: ${trap.reason}` : 'machine check');
    this.name = 'MachineCheck';
  }
}

export interface Sleeper {
  /**
   * Waits until an interrupt may have become pending or `deadline` (ns since boot) passes.
   * May return early; the hart re-checks. Isolated mode blocks the thread; inline mode cannot.
   */
  sleep(deadline: number): Promise<void> | undefined;
}

/** A translation hook: the MMU when paging is on. */
export interface Translator {
  setSatp(satp: bigint): void;
  readonly satp: bigint;
  flush(va?: number): void;
  /** Physical address for `va`, or throws HartFault with a page-fault cause. */
  translate(va: number, access: 'read' | 'write' | 'execute'): number;
}

export interface HartOptions {
  hartId: number;
  ram: { base: number; size: number; bytes: Uint8Array };
  port: MmioPort;
  clint: Clint;
  /** The PLIC's output for this hart's machine-mode context. */
  externalPending(): boolean;
  sleeper: Sleeper;
  /** Runs `fn` once the guest's microtasks have drained (setImmediate). */
  macrotask(fn: () => void): void;
  now(): number;
  mmu?: Translator;
  /** The machine stops the guest for this exception (after the kernel's handler has seen it). */
  onFault(trap: HartTrap): void;
  /** A guest's trap handler threw: the machine stops with this error. */
  onCrash(error: unknown): void;
  isStopped(): boolean;
}

const MSIE = 1 << 3;
const MTIE = 1 << 7;
const MEIE = 1 << 11;

export class Hart {
  private handler: ((trap: HartTrap) => void) | undefined;
  /** The exception that stopped this hart: nothing it does afterwards reaches a device. */
  private stoppedBy: HartTrap | undefined;
  private mie = 0;
  private satp = 0n;
  private idleScheduled = false;
  private waiters: Array<() => void> = [];
  private wfiDeadline = Number.POSITIVE_INFINITY;
  /** Statistics a benchmark may read. */
  readonly stats = { mmioReads: 0, mmioWrites: 0, wfis: 0, interrupts: 0 };
  readonly cpu: ReturnType<Hart['makeCpu']>;

  constructor(private readonly o: HartOptions) {
    this.cpu = this.makeCpu();
  }

  private makeCpu() {
    const o = this.o;
    const port = o.port;
    const stats = this.stats;
    // Paging off: physical = virtual, no call at all on the fast path.
    const tr = (va: number, access: 'read' | 'write'): number => (this.satp === 0n || o.mmu === undefined ? va : o.mmu.translate(va, access));
    const read = (va: number, size: AccessSize): number => {
      if (this.stoppedBy !== undefined) throw new MachineCheck(this.stoppedBy);
      stats.mmioReads++;
      try {
        return port.read(tr(va, 'read'), size);
      } catch (e) {
        throw this.fault(e, va, 5);
      }
    };
    const write = (va: number, size: AccessSize, value: number): void => {
      if (this.stoppedBy !== undefined) throw new MachineCheck(this.stoppedBy);
      stats.mmioWrites++;
      try {
        port.write(tr(va, 'write'), size, value);
      } catch (e) {
        throw this.fault(e, va, 7);
      }
    };
    return {
      hartId: o.hartId,
      ram: Object.freeze({ base: o.ram.base, size: o.ram.size, bytes: o.ram.bytes }),
      mmio: Object.freeze({
        read8: (a: number) => read(a, 1),
        read16: (a: number) => read(a, 2),
        read32: (a: number) => read(a, 4),
        write8: (a: number, v: number) => write(a, 1, v),
        write16: (a: number, v: number) => write(a, 2, v),
        write32: (a: number, v: number) => write(a, 4, v),
      }),
      setTrapHandler: (h: (trap: HartTrap) => void) => {
        this.handler = h;
      },
      setInterruptEnable: (mask: number) => {
        this.mie = mask & (MSIE | MTIE | MEIE);
      },
      wfi: (deadline?: number) => this.wfi(deadline ?? Number.POSITIVE_INFINITY),
      readTime: () => o.now(),
      setPageTableRoot: (satp: bigint) => {
        if (o.mmu === undefined) throw new Error('this machine has no MMU');
        o.mmu.setSatp(satp);
        this.satp = o.mmu.satp;
      },
      readPageTableRoot: () => this.satp,
      flushTlb: (va?: number) => o.mmu?.flush(va),
    };
  }

  /** Delivers an exception to the kernel, tells the machine, and returns what to throw. */
  private fault(e: unknown, va: number, accessFaultCode: number): Error {
    if (e instanceof MachineCheck) return e;
    // A port's HartFault and the MMU's PageFault both carry the trap's cause, address and why.
    const trap: HartTrap =
      e instanceof HartFault || e instanceof PageFault
        ? { kind: 'exception', code: e.code, addr: e.addr, reason: e.reason }
        : { kind: 'exception', code: accessFaultCode, addr: va, reason: e instanceof Error ? e.message : String(e) };
    try {
      this.handler?.(trap);
    } catch {
      // A handler that throws while reporting a fault changes nothing: the machine stops anyway.
    }
    this.o.port.sync();
    // The machine stops the hart for it; until it has (isolated mode hears of it through a
    // message), the guest's next device access must not overtake the report.
    this.stoppedBy = trap;
    this.o.onFault(trap);
    return new MachineCheck(trap);
  }

  private wfi(deadline: number): Promise<void> {
    this.stats.wfis++;
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (deadline < this.wfiDeadline) this.wfiDeadline = deadline;
      if (!this.idleScheduled) {
        this.idleScheduled = true;
        this.o.macrotask(() => void this.idle());
      }
    });
  }

  /** Interrupt causes that are pending and enabled, as mip & mie. */
  pending(): number {
    let p = 0;
    if (this.mie & MEIE && this.o.externalPending()) p |= MEIE;
    if (this.mie & MTIE && this.o.clint.timerPending()) p |= MTIE;
    if (this.mie & MSIE && this.o.clint.softwarePending()) p |= MSIE;
    return p;
  }

  /** Runs as a macrotask: the guest has nothing left to do until an interrupt. */
  private async idle(): Promise<void> {
    this.idleScheduled = false;
    const o = this.o;
    for (;;) {
      if (o.isStopped() || this.stoppedBy !== undefined) return; // a stopped machine never wakes its guest
      o.port.sync();
      const p = this.pending();
      if (p !== 0) {
        this.deliver(p);
        break;
      }
      if (o.now() >= this.wfiDeadline) break;
      const timer = this.mie & MTIE ? o.clint.deadlineNs() : Number.POSITIVE_INFINITY;
      const pending = o.sleeper.sleep(Math.min(this.wfiDeadline, timer));
      if (pending !== undefined) await pending;
    }
    if (o.isStopped()) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.wfiDeadline = Number.POSITIVE_INFINITY;
    for (const w of waiters) w();
  }

  /** Priority order of the privileged specification: external, software, timer. */
  private deliver(p: number): void {
    const h = this.handler;
    if (h === undefined) return;
    try {
      if (p & MEIE) {
        this.stats.interrupts++;
        h({ kind: 'interrupt', code: 11 });
      }
      if (p & MSIE) {
        this.stats.interrupts++;
        h({ kind: 'interrupt', code: 3 });
      }
      if (p & MTIE) {
        this.stats.interrupts++;
        h({ kind: 'interrupt', code: 7 });
      }
    } catch (e) {
      if (!(e instanceof MachineCheck)) this.o.onCrash(e);
    }
  }
}
