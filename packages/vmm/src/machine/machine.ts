import { Bus } from '../bus/bus.js';
import type { MmioDevice } from '../bus/device.js';
import { Clint } from '../devices/clint.js';
import { type IrqLine, Plic } from '../devices/plic.js';
import { TestFinisher } from '../devices/test-finisher.js';
import { Uart16550 } from '../devices/uart16550.js';
import type { Image } from '../image/image.js';
import type { HartTrap } from '../vcpu/hart.js';
import { runInline } from '../vcpu/inline.js';
import { runIsolated } from '../vcpu/isolated.js';
import { faultName } from '../mmu/page-fault.js';
import { hostClock } from './clock.js';
import { buildMachineDtb } from './dtb.js';
import { DEFAULT_MEM, IMAGE_OFFSET, Layout, PLIC_CONTEXTS, PLIC_SOURCES } from './layout.js';

export type ExecutionMode = 'inline' | 'isolated';

/** A device model on a virtio-mmio slot (see the virtio device models). */
export interface SlotDevice {
  readonly name: string;
  /**
   * Opens host resources before boot (sockets, files) and loads what the device needs, so that
   * a port in use is an error before the guest starts. The machine calls it before `attach`;
   * calling it earlier (to report errors first) is fine: it does the work once.
   */
  prepare?(): Promise<void>;
  /** Called once the machine exists: gives the model its RAM, its interrupt line and its registers' base. */
  attach(env: SlotEnv): MmioDevice;
  /** The machine stops: flush and release host resources. */
  close?(): Promise<void> | void;
}

export interface SlotEnv {
  readonly ram: { base: number; size: number; bytes: Uint8Array };
  readonly irq: IrqLine;
  readonly slot: number;
}

export interface MachineOptions {
  readonly image: Image;
  /** Bytes of RAM (default 64 MiB). */
  readonly memBytes?: number;
  readonly mode?: ExecutionMode;
  /** The kernel command line (/chosen/bootargs). */
  readonly bootargs?: string;
  /** Stop the guest after this long (ms); 0 or absent: never. */
  readonly timeoutMs?: number;
  /** Where the UART's output goes (default: the host's stdout). */
  readonly output?: (bytes: Uint8Array) => void;
  /** Devices on virtio-mmio slots 0..7, in slot order. */
  readonly devices?: readonly SlotDevice[];
  /** Bytes for the UART's receiver (an interactive terminal's stdin). */
  readonly input?: NodeJS.ReadableStream;
  /**
   * V8's code cache for the image: compiled code from an earlier boot, so this one skips
   * compiling what it runs; `onUpdate` receives a fresh cache once the guest has booted.
   */
  readonly codeCache?: { readonly data?: Uint8Array; onUpdate?(data: Uint8Array): void };
  /** How many times a guest may reset the machine before it is stopped. */
  readonly maxResets?: number;
}

export type StopReason = 'poweroff' | 'fault' | 'crash' | 'timeout' | 'returned' | 'reset';

export interface MachineResult {
  readonly exitCode: number;
  readonly reason: StopReason;
  /** One line a person reads when the reason is not a clean power-off. */
  readonly message: string;
}

/** Exit statuses for stops the guest did not choose (sysexits' EX_SOFTWARE; timeout's 124). */
export const ExitStatus = { fault: 70, crash: 70, timeout: 124, returned: 70 } as const;

/** What the vCPU runners need from the machine. */
export interface MachineCore {
  readonly ram: { base: number; size: number; bytes: Uint8Array; sab: SharedArrayBuffer };
  readonly bus: Bus;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly clock: { now(): number; origin: bigint };
  readonly dtbAddr: number;
  readonly image: Image;
  readonly codeCache?: MachineOptions['codeCache'];
  readonly stopped: boolean;
  stop(result: MachineResult): void;
  fault(trap: HartTrap): void;
  crash(error: unknown): void;
  /** The PLIC's machine-context output; the runners mirror it to the hart. */
  onExternal(listener: (asserted: boolean) => void): void;
}

/**
 * The machine: QEMU's riscv64 virt board. It builds RAM, the bus and the devices, writes the
 * device tree and the image into RAM, and runs the image on a vCPU in the chosen mode until
 * the guest powers off, faults, crashes or runs out of time.
 */
export class Machine {
  constructor(readonly options: MachineOptions) {}

  async run(): Promise<MachineResult> {
    const max = this.options.maxResets ?? 8;
    for (let resets = 0; ; resets++) {
      const r = await this.runOnce();
      if (r.reason !== 'reset') return r;
      if (resets >= max) return { exitCode: ExitStatus.crash, reason: 'crash', message: `guest reset the machine ${max + 1} times; stopped` };
    }
  }

  private async runOnce(): Promise<MachineResult> {
    const o = this.options;
    const memBytes = o.memBytes ?? DEFAULT_MEM;
    if (!Number.isInteger(memBytes) || memBytes < 1 << 20 || memBytes % 4096 !== 0) {
      throw new RangeError(`memory size ${memBytes} must be a whole number of 4 KiB pages and at least 1 MiB`);
    }
    const sab = new SharedArrayBuffer(memBytes);
    const ram = { base: Layout.ram.base, size: memBytes, bytes: new Uint8Array(sab), sab };
    const clock = hostClock();
    const bus = new Bus();

    let finish!: (r: MachineResult) => void;
    const done = new Promise<MachineResult>((resolve) => {
      finish = resolve;
    });
    let result: MachineResult | undefined;
    const externalListeners: Array<(a: boolean) => void> = [];
    const write = o.output ?? ((bytes: Uint8Array) => process.stdout.write(bytes));
    const out = new OutputBuffer(write);

    const clint = new Clint(Clint.createState(), clock);
    const plic = new Plic(PLIC_SOURCES, PLIC_CONTEXTS, (ctx, asserted) => {
      if (ctx === 0) for (const l of externalListeners) l(asserted);
    });
    const uart = new Uart16550(plic.line(Layout.uart.irq), (b) => out.push(b));
    const onInput = (chunk: Buffer | string) => uart.receive(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
    o.input?.on('data', onInput);
    const stop = (r: MachineResult) => {
      if (result !== undefined) return;
      result = r;
      finish(r);
    };
    const test = new TestFinisher((a) => {
      if (a.kind === 'poweroff') stop({ exitCode: a.code, reason: 'poweroff', message: `guest powered off with status ${a.code}` });
      else stop({ exitCode: 0, reason: 'reset', message: 'guest reset the machine' });
    });
    bus.attach(Layout.test.base, Layout.test.size, test);
    bus.attach(Layout.clint.base, Layout.clint.size, clint);
    bus.attach(Layout.plic.base, Layout.plic.size, plic);
    bus.attach(Layout.uart.base, Layout.uart.size, uart);

    const devices = o.devices ?? [];
    if (devices.length > Layout.virtio.slots) throw new RangeError(`at most ${Layout.virtio.slots} virtio devices fit on this board`);
    for (const d of devices) await d.prepare?.();
    devices.forEach((d, slot) => {
      const base = Layout.virtio.base + slot * Layout.virtio.stride;
      const model = d.attach({ ram, irq: plic.line(Layout.virtio.firstIrq + slot), slot });
      bus.attach(base, Layout.virtio.size, model);
    });

    // The image goes where firmware loads a kernel; the device tree at the top of RAM.
    const image = o.image;
    if (IMAGE_OFFSET + image.bytes.length > memBytes / 2) throw new RangeError(`image of ${image.bytes.length} bytes does not fit in ${memBytes} bytes of RAM`);
    ram.bytes.set(image.bytes, IMAGE_OFFSET);
    const imageRange = { address: ram.base + IMAGE_OFFSET, size: align(image.bytes.length, 4096) };
    const dtb = buildMachineDtb({
      memBytes,
      bootargs: o.bootargs ?? '',
      virtio: devices.map((_, slot) => ({ slot })),
      reserved: [imageRange],
    });
    const dtbOffset = memBytes - align(dtb.length, 4096);
    ram.bytes.set(dtb, dtbOffset);

    const core: MachineCore = {
      ram,
      bus,
      clint,
      plic,
      clock,
      dtbAddr: ram.base + dtbOffset,
      image,
      codeCache: o.codeCache,
      get stopped() {
        return result !== undefined;
      },
      stop,
      fault: (trap) => {
        if (trap.kind !== 'exception') return;
        stop({
          exitCode: ExitStatus.fault,
          reason: 'fault',
          message: `guest fault: ${faultName(trap.code)} at 0x${trap.addr.toString(16)}: ${trap.reason}`,
        });
      },
      crash: (error) => stop({ exitCode: ExitStatus.crash, reason: 'crash', message: `guest crashed: ${describeError(error)}` }),
      onExternal: (l) => {
        externalListeners.push(l);
      },
    };

    let timer: NodeJS.Timeout | undefined;
    if (o.timeoutMs !== undefined && o.timeoutMs > 0) {
      timer = setTimeout(
        () => stop({ exitCode: ExitStatus.timeout, reason: 'timeout', message: `guest still running after ${o.timeoutMs} ms (--timeout); stopped` }),
        o.timeoutMs,
      );
    }
    const runner = (o.mode ?? 'isolated') === 'inline' ? runInline(core) : runIsolated(core);
    try {
      const r = await done;
      return r;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      o.input?.off('data', onInput);
      await runner.shutdown();
      out.flush();
      for (const d of devices) await d.close?.();
    }
  }
}

/** UART output, handed to the host in batches rather than a write per byte. */
class OutputBuffer {
  private buf = new Uint8Array(4096);
  private n = 0;
  private scheduled = false;

  constructor(private readonly sink: (bytes: Uint8Array) => void) {}

  push(b: number): void {
    if (this.n === this.buf.length) this.flush();
    this.buf[this.n++] = b;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.n === 0) return;
    this.sink(this.buf.slice(0, this.n));
    this.n = 0;
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  if (typeof e === 'object' && e !== null && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
