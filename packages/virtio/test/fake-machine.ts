import type { Cpu, DmaHeap, IrqController } from '@uk/hal';
import { type MmioDevice, type SlotDevice, type SlotEnv } from '../../vmm/src/index.js';

/**
 * A machine without a vCPU for driver tests: RAM in a SharedArrayBuffer, the virtio-mmio
 * slots of the virt board wired to the VMM's device models in this thread, a PLIC stand-in
 * that calls a line's handler while the line is high, and a DMA heap over the top of RAM.
 */
export const BASE = 0x8000_0000;
export const SLOT_BASE = 0x1000_1000;

export interface FakeMachine {
  cpu: Cpu;
  dma: DmaHeap & { live: number };
  irq: IrqController;
  models: MmioDevice[];
  /** Runs until every scheduled interrupt and I/O callback has had a turn. */
  settle(): Promise<void>;
}

export interface FakeMachineOptions {
  /**
   * Writes are queued and reach the device only at the next read or settle, as the isolated
   * vCPU posts them.
   */
  postedWrites?: boolean;
}

export function fakeMachine(devices: SlotDevice[], ramBytes = 16 << 20, options: FakeMachineOptions = {}): FakeMachine {
  const bytes = new Uint8Array(new SharedArrayBuffer(ramBytes));
  const ram = { base: BASE, size: ramBytes, bytes };
  const levels: boolean[] = [];
  const handlers: Array<(() => void) | undefined> = [];
  let scheduled = false;
  const deliver = () => {
    scheduled = false;
    for (let guard = 0; guard < 1000; guard++) {
      const line = levels.findIndex((l, i) => l && handlers[i] !== undefined);
      if (line < 0) return;
      (handlers[line] as () => void)();
    }
    throw new Error('an interrupt line stayed high through 1000 handler calls');
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(deliver);
    }
  };
  const models = devices.map((d, slot) => {
    const env: SlotEnv = {
      ram,
      slot,
      irq: {
        set(level) {
          levels[1 + slot] = level;
          if (level) schedule();
        },
      },
    };
    return d.attach(env);
  });
  const route = (a: number): [MmioDevice, number] => {
    const slot = Math.floor((a - SLOT_BASE) / 0x1000);
    const m = models[slot];
    if (m === undefined || a < SLOT_BASE) throw new Error(`no device at 0x${a.toString(16)}`);
    return [m, a - SLOT_BASE - slot * 0x1000];
  };
  const posted: Array<[number, 1 | 2 | 4, number]> = [];
  const flush = () => {
    for (const [a, size, v] of posted.splice(0)) route(a)[0].write(route(a)[1], size, v);
  };
  const read = (a: number, size: 1 | 2 | 4) => {
    flush();
    const [m, off] = route(a);
    return m.read(off, size);
  };
  const write = (a: number, size: 1 | 2 | 4, v: number) => {
    if (options.postedWrites) posted.push([a, size, v]);
    else route(a)[0].write(route(a)[1], size, v);
  };
  const mmio = {
    read8: (a: number) => read(a, 1),
    read16: (a: number) => read(a, 2),
    read32: (a: number) => read(a, 4),
    write8: (a: number, v: number) => write(a, 1, v),
    write16: (a: number, v: number) => write(a, 2, v),
    write32: (a: number, v: number) => write(a, 4, v),
  };
  const t0 = process.hrtime.bigint();
  const cpu: Cpu = {
    hartId: 0,
    ram,
    mmio,
    setTrapHandler() {},
    setInterruptEnable() {},
    wfi: () => new Promise((r) => setImmediate(r)),
    readTime: () => Number(process.hrtime.bigint() - t0),
    setPageTableRoot() {},
    readPageTableRoot: () => 0n,
    flushTlb() {},
  };
  // DMA memory: a bump allocator over the upper half of RAM; frees are counted, not reused.
  let next = BASE + ramBytes / 2;
  const dma = {
    live: 0,
    alloc(n: number, align = 8) {
      next = Math.ceil(next / align) * align;
      const pa = next;
      next += n;
      if (next > BASE + ramBytes) throw new Error('fake DMA heap exhausted');
      dma.live++;
      return pa;
    },
    free() {
      dma.live--;
    },
  };
  const irq: IrqController = {
    register(line, handler) {
      if (handlers[line] !== undefined) throw new Error(`line ${line} taken`);
      handlers[line] = handler;
      if (levels[line]) schedule();
    },
    unregister(line) {
      handlers[line] = undefined;
    },
  };
  const settle = async () => {
    for (let i = 0; i < 50; i++) {
      flush();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { cpu, dma, irq, models, settle };
}
