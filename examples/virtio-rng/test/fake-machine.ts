import type { Cpu, DmaHeap, IrqController } from '@uk/hal';
import { MmioTransport, VirtioMmioDevice } from '@uk/virtio';
import type { MmioDevice, SlotDevice } from '@uk/vmm';

/**
 * A machine without a vCPU for driver tests: RAM in a SharedArrayBuffer, virtio-mmio slots at
 * the virt board's addresses wired to device models in this thread, an interrupt controller
 * that calls a line's handler (from a later task, as a real interrupt arrives) while the line
 * is high, and a bump DMA heap over the top half of RAM.
 */
export const RAM_BASE = 0x8000_0000;
export const SLOT_BASE = 0x1000_1000;
const SLOT_STRIDE = 0x1000;

export interface FakeMachine {
  readonly cpu: Cpu;
  readonly dma: DmaHeap;
  readonly irq: IrqController;
  readonly models: MmioDevice[];
  /** The driver's view of the device in `slot` (its interrupt line is 1 + slot, as on the board). */
  device(slot?: number): VirtioMmioDevice;
}

export function fakeMachine(devices: SlotDevice[], ramBytes = 8 << 20): FakeMachine {
  const bytes = new Uint8Array(new SharedArrayBuffer(ramBytes));
  const ram = { base: RAM_BASE, size: ramBytes, bytes };
  const levels: boolean[] = [];
  const handlers: Array<(() => void) | undefined> = [];
  let scheduled = false;
  const deliver = () => {
    scheduled = false;
    for (let guard = 0; guard < 1000; guard++) {
      const line = levels.findIndex((high, i) => high && handlers[i] !== undefined);
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
  const models = devices.map((d, slot) =>
    d.attach({
      ram,
      slot,
      irq: {
        set(high) {
          levels[1 + slot] = high;
          if (high) schedule();
        },
      },
    }),
  );
  const route = (pa: number): [MmioDevice, number] => {
    const slot = Math.floor((pa - SLOT_BASE) / SLOT_STRIDE);
    const model = models[slot];
    if (model === undefined || pa < SLOT_BASE) throw new Error(`no device at 0x${pa.toString(16)}`);
    return [model, pa - SLOT_BASE - slot * SLOT_STRIDE];
  };
  const read = (pa: number, size: 1 | 2 | 4) => {
    const [m, off] = route(pa);
    return m.read(off, size);
  };
  const write = (pa: number, size: 1 | 2 | 4, v: number) => {
    const [m, off] = route(pa);
    m.write(off, size, v);
  };
  const t0 = process.hrtime.bigint();
  const cpu: Cpu = {
    hartId: 0,
    ram,
    mmio: {
      read8: (pa) => read(pa, 1),
      read16: (pa) => read(pa, 2),
      read32: (pa) => read(pa, 4),
      write8: (pa, v) => write(pa, 1, v),
      write16: (pa, v) => write(pa, 2, v),
      write32: (pa, v) => write(pa, 4, v),
    },
    setTrapHandler() {},
    setInterruptEnable() {},
    wfi: () => new Promise((resolve) => setImmediate(resolve)),
    readTime: () => Number(process.hrtime.bigint() - t0),
    setPageTableRoot() {},
    readPageTableRoot: () => 0n,
    flushTlb() {},
  };
  let next = RAM_BASE + ramBytes / 2;
  const dma: DmaHeap = {
    alloc(n, align = 8) {
      next = Math.ceil(next / align) * align;
      const pa = next;
      next += n;
      if (next > RAM_BASE + ramBytes) throw new Error('fake DMA heap exhausted');
      return pa;
    },
    free() {},
  };
  const irq: IrqController = {
    register(line, handler) {
      if (handlers[line] !== undefined) throw new Error(`interrupt line ${line} is taken`);
      handlers[line] = handler;
      if (levels[line]) schedule();
    },
    unregister(line) {
      handlers[line] = undefined;
    },
  };
  return {
    cpu,
    dma,
    irq,
    models,
    device: (slot = 0) => new VirtioMmioDevice({ cpu, dma, irq }, new MmioTransport(cpu.mmio, SLOT_BASE + slot * SLOT_STRIDE), 1 + slot),
  };
}
