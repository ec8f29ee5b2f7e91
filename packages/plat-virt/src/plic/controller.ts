import { type Fdt, type FdtNode, interruptsExtended } from '@uk/fdt';
import { type IrqController, KernelError } from '@uk/hal';
import { registerBase } from '../device-node.js';

const PRIORITY = 0x0;
const ENABLE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;
/** mcause code of a machine external interrupt, as a cpu-intc specifier names it. */
const MACHINE_EXTERNAL = 11;

/**
 * The PLIC driver: routes sources to handlers for the boot hart's machine-mode context,
 * which it finds in `interrupts-extended` (the entry whose specifier is 11).
 */
export class PlicController implements IrqController {
  readonly #base: number;
  readonly #context: number;
  readonly #handlers: Array<(() => void) | undefined>;
  readonly #sources: number;
  /** Claims served, for introspection. */
  claims = 0;

  readonly #mmio: { read32(a: number): number; write32(a: number, v: number): void };

  constructor(mmio: { read32(a: number): number; write32(a: number, v: number): void }, fdt: Fdt, node: FdtNode) {
    this.#mmio = mmio;
    this.#base = registerBase(node);
    const ctx = interruptsExtended(fdt, node).findIndex((e) => e.specifier[0] === MACHINE_EXTERNAL);
    if (ctx < 0) throw new KernelError('ENODEV', `${node.path} routes no machine external interrupt to the boot hart`);
    this.#context = ctx;
    this.#sources = (node.prop('riscv,ndev')?.u32() ?? 1023) + 1;
    this.#handlers = new Array(this.#sources);
    // Nothing is delivered until a driver asks for it; anything pending goes through.
    mmio.write32(this.#base + CONTEXT + CONTEXT_STRIDE * ctx, 0);
  }

  register(line: number, handler: () => void): void {
    if (line <= 0 || line >= this.#sources) throw new KernelError('EINVAL', `PLIC has no interrupt source ${line} (1..${this.#sources - 1})`);
    if (this.#handlers[line] !== undefined) throw new KernelError('EBUSY', `interrupt ${line} already has a handler`);
    this.#handlers[line] = handler;
    this.#mmio.write32(this.#base + PRIORITY + 4 * line, 1);
    this.#setEnabled(line, true);
  }

  unregister(line: number): void {
    if (this.#handlers[line] === undefined) return;
    this.#setEnabled(line, false);
    this.#handlers[line] = undefined;
  }

  #setEnabled(line: number, on: boolean): void {
    const addr = this.#base + ENABLE + ENABLE_STRIDE * this.#context + 4 * (line >> 5);
    const bit = 1 << (line & 31);
    const v = this.#mmio.read32(addr);
    this.#mmio.write32(addr, on ? v | bit : v & ~bit);
  }

  /** The external-interrupt trap: claim, handle, complete, until nothing is pending. */
  dispatch(): void {
    const claimAddr = this.#base + CONTEXT + CONTEXT_STRIDE * this.#context + 4;
    for (;;) {
      const line = this.#mmio.read32(claimAddr);
      if (line === 0) return;
      this.claims++;
      try {
        this.#handlers[line]?.();
      } finally {
        this.#mmio.write32(claimAddr, line);
      }
    }
  }
}
