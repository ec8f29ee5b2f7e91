import type { MmioDevice } from '../bus/device.js';
import { NS_PER_TICK } from '../machine/layout.js';

const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;

/** Words of the CLINT state that the vCPU and the device side share. */
const CMP_LO = 0;
const CMP_HI = 1;
const MSIP_WORD = 2;
export const CLINT_STATE_WORDS = 4;

/** The machine's time source: nanoseconds since power-on. */
export interface MachineClock {
  now(): number;
}

/**
 * The core-local interruptor for hart 0: `msip`, `mtimecmp` and `mtime`. Its state lives in
 * shared memory so that the vCPU can evaluate the timer comparator itself (MTIP is a level,
 * mtime >= mtimecmp, not an event), whichever thread the vCPU runs on.
 */
export class Clint implements MmioDevice {
  readonly name = 'clint';
  private readonly words: Uint32Array;

  constructor(
    readonly state: SharedArrayBuffer,
    private readonly clock: MachineClock,
    private readonly onSoftware: (pending: boolean) => void = () => {},
  ) {
    this.words = new Uint32Array(state);
  }

  static createState(): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(CLINT_STATE_WORDS * 4);
    const w = new Uint32Array(sab);
    w[CMP_LO] = 0xffff_ffff;
    w[CMP_HI] = 0xffff_ffff;
    return sab;
  }

  mtime(): number {
    return Math.floor(this.clock.now() / NS_PER_TICK);
  }

  /** mtimecmp in ticks; Infinity when all ones (the reset value: never). */
  mtimecmp(): number {
    const lo = Atomics.load(this.words, CMP_LO);
    const hi = Atomics.load(this.words, CMP_HI);
    if (hi >= 0x20_0000) return Number.POSITIVE_INFINITY; // beyond 2^53 ticks: centuries away
    return hi * 0x1_0000_0000 + lo;
  }

  /** ns since boot at which the timer interrupt becomes pending (Infinity: never). */
  deadlineNs(): number {
    const cmp = this.mtimecmp();
    return cmp === Number.POSITIVE_INFINITY ? cmp : cmp * NS_PER_TICK;
  }

  timerPending(): boolean {
    return this.mtime() >= this.mtimecmp();
  }

  softwarePending(): boolean {
    return (Atomics.load(this.words, MSIP_WORD) & 1) === 1;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    switch (offset) {
      case MSIP:
        return Atomics.load(this.words, MSIP_WORD) & 1;
      case MTIMECMP:
        return Atomics.load(this.words, CMP_LO);
      case MTIMECMP + 4:
        return Atomics.load(this.words, CMP_HI);
      case MTIME:
        return this.mtime() >>> 0;
      case MTIME + 4:
        return Math.floor(this.mtime() / 0x1_0000_0000) >>> 0;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4) return;
    switch (offset) {
      case MSIP:
        Atomics.store(this.words, MSIP_WORD, value & 1);
        this.onSoftware((value & 1) === 1);
        return;
      case MTIMECMP:
        Atomics.store(this.words, CMP_LO, value >>> 0);
        return;
      case MTIMECMP + 4:
        Atomics.store(this.words, CMP_HI, value >>> 0);
        return;
      default:
        // mtime is read-only here: the machine's time is the host's monotonic clock.
        return;
    }
  }
}
