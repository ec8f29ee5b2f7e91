import type { MmioDevice } from '../bus/device.js';

/** An interrupt line a device model drives (level-triggered, like every source on virt). */
export interface IrqLine {
  set(level: boolean): void;
}

const PRIORITY_BASE = 0x0;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;

/**
 * The platform-level interrupt controller (RISC-V PLIC specification 1.0.0): per-source
 * priority and gateway, per-context enables, threshold and the claim/complete protocol.
 * A source is level-triggered: while its line is high and it is not in service, it is pending.
 */
export class Plic implements MmioDevice {
  readonly name = 'plic';
  private readonly priority: Uint32Array;
  private readonly level: Uint8Array;
  private readonly pending: Uint8Array;
  private readonly inService: Uint8Array;
  private readonly enable: Uint32Array[];
  private readonly threshold: Uint32Array;
  private readonly outputs: boolean[];

  /** `onOutput(context, asserted)` fires when a context's interrupt output changes. */
  constructor(
    readonly sources: number,
    readonly contexts: number,
    private readonly onOutput: (context: number, asserted: boolean) => void,
  ) {
    this.priority = new Uint32Array(sources);
    this.level = new Uint8Array(sources);
    this.pending = new Uint8Array(sources);
    this.inService = new Uint8Array(sources);
    this.enable = Array.from({ length: contexts }, () => new Uint32Array(Math.ceil(sources / 32)));
    this.threshold = new Uint32Array(contexts);
    this.outputs = new Array<boolean>(contexts).fill(false);
  }

  /** The line of source `n` (1..sources-1), to hand to a device model. */
  line(n: number): IrqLine {
    if (n <= 0 || n >= this.sources) throw new Error(`plic: no interrupt source ${n}`);
    return { set: (level) => this.setLevel(n, level) };
  }

  setLevel(n: number, level: boolean): void {
    this.level[n] = level ? 1 : 0;
    if (level && !this.inService[n]) this.pending[n] = 1;
    else if (!level) this.pending[n] = 0;
    this.update();
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    if (offset < PENDING_BASE) {
      const n = (offset - PRIORITY_BASE) >> 2;
      return n < this.sources ? this.priority[n] : 0;
    }
    if (offset < ENABLE_BASE) {
      const word = (offset - PENDING_BASE) >> 2;
      let bits = 0;
      for (let b = 0; b < 32; b++) if (this.pending[word * 32 + b]) bits |= 1 << b;
      return bits >>> 0;
    }
    if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
      return ctx < this.contexts && word < this.enable[ctx].length ? this.enable[ctx][word] : 0;
    }
    const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
    if (ctx >= this.contexts) return 0;
    const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (reg === 0) return this.threshold[ctx];
    if (reg === 4) return this.claim(ctx);
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4) return;
    value >>>= 0;
    if (offset < PENDING_BASE) {
      const n = (offset - PRIORITY_BASE) >> 2;
      if (n > 0 && n < this.sources) this.priority[n] = value & 7;
    } else if (offset < ENABLE_BASE) {
      return; // pending bits are read-only
    } else if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
      if (ctx < this.contexts && word < this.enable[ctx].length) this.enable[ctx][word] = word === 0 ? value & ~1 : value;
    } else {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      if (ctx >= this.contexts) return;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) this.threshold[ctx] = value & 7;
      else if (reg === 4) this.complete(ctx, value);
    }
    this.update();
  }

  /** Highest-priority pending source enabled for `ctx` above its threshold (ties: lowest ID). */
  private best(ctx: number): number {
    let best = 0;
    let bestPrio = this.threshold[ctx];
    const en = this.enable[ctx];
    for (let n = 1; n < this.sources; n++) {
      if (this.pending[n] && (en[n >> 5] >>> (n & 31)) & 1 && this.priority[n] > bestPrio) {
        best = n;
        bestPrio = this.priority[n];
      }
    }
    return best;
  }

  private claim(ctx: number): number {
    const n = this.best(ctx);
    if (n !== 0) {
      this.pending[n] = 0;
      this.inService[n] = 1;
      this.update();
    }
    return n;
  }

  private complete(ctx: number, n: number): void {
    if (n <= 0 || n >= this.sources) return;
    // The gateway ignores a completion for a source not enabled for this context (spec §9).
    if (!((this.enable[ctx][n >> 5] >>> (n & 31)) & 1)) return;
    this.inService[n] = 0;
    if (this.level[n]) this.pending[n] = 1;
  }

  private update(): void {
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      const asserted = this.best(ctx) !== 0;
      if (asserted !== this.outputs[ctx]) {
        this.outputs[ctx] = asserted;
        this.onOutput(ctx, asserted);
      }
    }
  }
}
