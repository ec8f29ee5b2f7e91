import type { FdtNode } from '@uk/fdt';
import type { Cpu, PowerControl } from '@uk/hal';
import { registerBase } from '../device-node.js';

const PASS = 0x5555;
const FAIL = 0x3333;
const RESET = 0x7777;

/** Power control through SiFive's test device: the exit status rides in the upper half. */
export class TestDevicePower implements PowerControl {
  readonly #addr: number;

  readonly #cpu: Cpu;

  constructor(cpu: Cpu, node: FdtNode) {
    this.#cpu = cpu;
    this.#addr = registerBase(node);
  }

  powerOff(code: number): void {
    const status = code & 0xffff;
    this.#cpu.mmio.write32(this.#addr, status === 0 ? PASS : (FAIL | (status << 16)) >>> 0);
  }

  reboot(): void {
    this.#cpu.mmio.write32(this.#addr, RESET);
  }
}
