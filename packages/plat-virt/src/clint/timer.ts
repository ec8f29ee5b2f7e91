import type { Fdt, FdtNode } from '@uk/fdt';
import { type ClockEvent, type Cpu, KernelError } from '@uk/hal';
import { registerBase } from '../device-node.js';

const MTIMECMP = 0x4000;

/**
 * The CLINT's mtimecmp as a one-shot ClockEvent. Time is `rdtime` (ns); the comparator counts
 * ticks of /cpus/timebase-frequency.
 */
export class ClintTimer implements ClockEvent {
  readonly #cmp: number;
  readonly #nsPerTick: number;
  #handler: (() => void) | undefined;
  deadline = Number.POSITIVE_INFINITY;

  readonly #cpu: Cpu;

  constructor(cpu: Cpu, fdt: Fdt, node: FdtNode) {
    this.#cpu = cpu;
    this.#cmp = registerBase(node) + MTIMECMP;
    const hz = fdt.node('/cpus')?.prop('timebase-frequency')?.u32();
    if (hz === undefined || hz === 0) throw new KernelError('ENODEV', '/cpus has no timebase-frequency');
    this.#nsPerTick = 1e9 / hz;
    this.#program(Number.POSITIVE_INFINITY);
  }

  now(): number {
    return this.#cpu.readTime();
  }

  setDeadline(deadline: number): void {
    this.deadline = deadline;
    this.#program(deadline);
  }

  onExpire(handler: () => void): void {
    this.#handler = handler;
  }

  /** The timer interrupt: disarm first, so a handler that sets a new deadline keeps it. */
  expire(): void {
    this.setDeadline(Number.POSITIVE_INFINITY);
    this.#handler?.();
  }

  /** Writes mtimecmp as RV32 must: high word to all ones first, so no early match is possible. */
  #program(deadline: number): void {
    const m = this.#cpu.mmio;
    if (!Number.isFinite(deadline)) {
      m.write32(this.#cmp + 4, 0xffff_ffff);
      m.write32(this.#cmp, 0xffff_ffff);
      return;
    }
    const ticks = Math.max(0, Math.ceil(deadline / this.#nsPerTick));
    m.write32(this.#cmp + 4, 0xffff_ffff);
    m.write32(this.#cmp, ticks >>> 0);
    m.write32(this.#cmp + 4, Math.floor(ticks / 0x1_0000_0000) >>> 0);
  }
}
