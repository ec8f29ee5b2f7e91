import type { MmioDevice } from '../bus/device.js';

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export type FinisherAction = { kind: 'poweroff'; code: number } | { kind: 'reset' };

/**
 * SiFive's test device (`sifive,test0`): a write of 0x5555 powers off with status 0,
 * 0x3333 | code << 16 powers off with `code`, 0x7777 resets — exactly as QEMU's.
 */
export class TestFinisher implements MmioDevice {
  readonly name = 'test';
  constructor(private readonly onAction: (action: FinisherAction) => void) {}

  read(): number {
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || size !== 4) return;
    const status = value & 0xffff;
    const code = (value >>> 16) & 0xffff;
    if (status === FINISHER_PASS) this.onAction({ kind: 'poweroff', code: 0 });
    else if (status === FINISHER_FAIL) this.onAction({ kind: 'poweroff', code });
    else if (status === FINISHER_RESET) this.onAction({ kind: 'reset' });
  }
}
