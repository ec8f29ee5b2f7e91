/**
 * MMIO exits of the isolated vCPU: a single-producer, single-consumer ring in shared memory.
 * The vCPU posts writes and waits only for reads; the device side answers in order, so a
 * read always sees the effect of the writes before it. Both ends spin briefly before
 * blocking, because a futex wake on a small VM costs tens of microseconds.
 */

export const Ctl = {
  HEAD: 0, // entries posted by the vCPU
  TAIL: 1, // entries consumed by the device side
  RESP_SEQ: 2, // sequence number of the last read answered
  RESP_VAL: 3,
  DEVICE_SLEEPING: 4, // the device side is parked in waitAsync on HEAD
  VCPU_HALTED: 5, // the vCPU is blocked in wfi
  WAKE: 6, // bumped whenever an interrupt may have become pending
  MEIP: 7, // the PLIC's output for hart 0, machine context
  STOPPED: 8,
  RESP_FAULT: 9, // non-zero: the read faulted (no device)
} as const;
const CTL_WORDS = 16;

export const RING_ENTRIES = 1024; // a power of two
const ENTRY_WORDS = 4;

export const Op = { READ: 1, WRITE: 2 } as const;

export interface RingBuffers {
  ctl: SharedArrayBuffer;
  entries: SharedArrayBuffer;
}

export function createRing(): RingBuffers {
  return {
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    entries: new SharedArrayBuffer(RING_ENTRIES * ENTRY_WORDS * 4),
  };
}

const SPIN_READ = 20_000;

/** The vCPU's end. */
export class RingClient {
  readonly ctl: Int32Array;
  private readonly e: Uint32Array;
  private head = 0;
  private seq = 0;

  constructor(buffers: RingBuffers) {
    this.ctl = new Int32Array(buffers.ctl);
    this.e = new Uint32Array(buffers.entries);
  }

  private push(op: number, size: number, addr: number, value: number): void {
    const ctl = this.ctl;
    // Ring full: wait for the device side to make room.
    while (this.head - Atomics.load(ctl, Ctl.TAIL) >= RING_ENTRIES) {
      this.kick();
      Atomics.wait(ctl, Ctl.TAIL, Atomics.load(ctl, Ctl.TAIL), 1);
    }
    const i = (this.head & (RING_ENTRIES - 1)) * ENTRY_WORDS;
    const e = this.e;
    e[i] = op | (size << 4);
    e[i + 1] = addr >>> 0;
    e[i + 2] = value >>> 0;
    e[i + 3] = ++this.seq;
    this.head = (this.head + 1) | 0;
    Atomics.store(ctl, Ctl.HEAD, this.head);
    this.kick();
  }

  private kick(): void {
    if (Atomics.load(this.ctl, Ctl.DEVICE_SLEEPING) !== 0) Atomics.notify(this.ctl, Ctl.HEAD, 1);
  }

  /** Returns the value, or undefined when no device answered (an access fault). */
  read(addr: number, size: number): number | undefined {
    this.push(Op.READ, size, addr, 0);
    const seq = this.seq;
    const ctl = this.ctl;
    let spins = 0;
    while (Atomics.load(ctl, Ctl.RESP_SEQ) !== seq) {
      if (++spins > SPIN_READ) {
        this.kick();
        Atomics.wait(ctl, Ctl.RESP_SEQ, Atomics.load(ctl, Ctl.RESP_SEQ), 5);
      }
    }
    if (Atomics.load(ctl, Ctl.RESP_FAULT) !== 0) return undefined;
    return Atomics.load(ctl, Ctl.RESP_VAL) >>> 0;
  }

  write(addr: number, size: number, value: number): void {
    this.push(Op.WRITE, size, addr, value);
  }

  /** Waits until the device side has taken every posted entry. */
  drain(): void {
    const ctl = this.ctl;
    let spins = 0;
    while (Atomics.load(ctl, Ctl.TAIL) !== this.head) {
      if (++spins > SPIN_READ) {
        this.kick();
        Atomics.wait(ctl, Ctl.TAIL, Atomics.load(ctl, Ctl.TAIL), 5);
      }
    }
  }
}

export interface RingHandler {
  read(addr: number, size: 1 | 2 | 4): number | undefined;
  write(addr: number, size: 1 | 2 | 4, value: number): void;
}

/** The device side's end: takes entries in order and answers reads. */
export class RingServer {
  readonly ctl: Int32Array;
  private readonly e: Uint32Array;
  private tail = 0;

  constructor(buffers: RingBuffers) {
    this.ctl = new Int32Array(buffers.ctl);
    this.e = new Uint32Array(buffers.entries);
  }

  /** Processes what is posted; returns how many entries it took. */
  drain(h: RingHandler): number {
    const ctl = this.ctl;
    const head = Atomics.load(ctl, Ctl.HEAD);
    let n = 0;
    while (this.tail !== head) {
      const i = (this.tail & (RING_ENTRIES - 1)) * ENTRY_WORDS;
      const e = this.e;
      const op = e[i] & 0xf;
      const size = (e[i] >>> 4) as 1 | 2 | 4;
      const addr = e[i + 1];
      if (op === Op.WRITE) {
        h.write(addr, size, e[i + 2]);
      } else {
        const v = h.read(addr, size);
        Atomics.store(ctl, Ctl.RESP_FAULT, v === undefined ? 1 : 0);
        Atomics.store(ctl, Ctl.RESP_VAL, v ?? 0);
        Atomics.store(ctl, Ctl.RESP_SEQ, e[i + 3]);
        Atomics.notify(ctl, Ctl.RESP_SEQ);
      }
      this.tail = (this.tail + 1) | 0;
      n++;
    }
    if (n > 0) {
      Atomics.store(ctl, Ctl.TAIL, this.tail);
      Atomics.notify(ctl, Ctl.TAIL);
    }
    return n;
  }

  pendingEntries(): boolean {
    return Atomics.load(this.ctl, Ctl.HEAD) !== this.tail;
  }
}
