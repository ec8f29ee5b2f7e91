import { encodeUtf8, type FdtNode } from '@uk/fdt';
import type { Console, Cpu } from '@uk/hal';
import { registerBase } from '../device-node.js';


const THR = 0;
const RBR = 0;
const IER = 1;
const FCR = 2;
const LCR = 3;
const LSR = 5;
const LSR_DR = 0x01;
const LSR_THRE = 0x20;
const FIFO_DEPTH = 16;

/**
 * The ns16550a console. After one look at LSR.THRE the transmit FIFO takes 16 bytes, so a
 * line costs one register read per 16 characters, not one per character.
 */
export class Ns16550Console implements Console {
  readonly #base: number;
  readonly #stride: number;
  #input: ((bytes: Uint8Array) => void) | undefined;

  readonly #cpu: Cpu;

  constructor(cpu: Cpu, node: FdtNode) {
    this.#cpu = cpu;
    this.#base = registerBase(node);
    this.#stride = 1 << (node.prop('reg-shift')?.u32() ?? 0);
    const m = cpu.mmio;
    m.write8(this.#reg(LCR), 0x03); // 8N1, DLAB off
    m.write8(this.#reg(FCR), 0x07); // FIFOs on and cleared
    m.write8(this.#reg(IER), 0x00);
  }

  #reg(n: number): number {
    return this.#base + n * this.#stride;
  }

  write(text: string): void {
    this.writeBytes(encodeUtf8(text));
  }

  writeBytes(bytes: Uint8Array): void {
    const m = this.#cpu.mmio;
    const thr = this.#reg(THR);
    const lsr = this.#reg(LSR);
    for (let i = 0; i < bytes.length; ) {
      while ((m.read8(lsr) & LSR_THRE) === 0) {
        // The FIFO drains at line rate on real hardware; here it is already empty.
      }
      const end = Math.min(bytes.length, i + FIFO_DEPTH);
      for (; i < end; i++) m.write8(thr, bytes[i]);
    }
  }

  /** Delivers received bytes to `handler`; call `interrupt()` from the UART's IRQ. */
  onInput(handler: (bytes: Uint8Array) => void): void {
    this.#input = handler;
    this.#cpu.mmio.write8(this.#reg(IER), 0x01);
  }

  interrupt(): void {
    const m = this.#cpu.mmio;
    const got: number[] = [];
    while (m.read8(this.#reg(LSR)) & LSR_DR) got.push(m.read8(this.#reg(RBR)));
    if (got.length > 0) this.#input?.(Uint8Array.from(got));
  }
}
