import { BusError } from '../bus/device.js';
import type { MachineCore } from '../machine/machine.js';
import { Ctl, createRing, type RingHandler, RingServer } from './exit-ring.js';
import type { Runner } from './inline.js';
import { startWorker, takeSpareWorker } from './spare.js';
import type { WorkerBoot } from './worker-protocol.js';

/** How long the device side keeps polling for exits after the last one (ms). */
const SPIN_MS = 0.25;
/** The longest the device side polls before letting the host's event loop run (ms). */
const SLICE_MS = 4;


/**
 * Isolated mode: the vCPU is a Worker with its own V8 isolate whose guest realm holds only
 * ECMAScript's built-ins. MMIO exits cross through a shared-memory ring (exit-ring.ts); the
 * device models stay on this thread.
 */
export function runIsolated(core: MachineCore): Runner {
  const ring = createRing();
  const server = new RingServer(ring);
  const ctl = server.ctl;
  const bus = core.bus;

  core.onExternal((asserted) => {
    Atomics.store(ctl, Ctl.MEIP, asserted ? 1 : 0);
    Atomics.add(ctl, Ctl.WAKE, 1);
    Atomics.notify(ctl, Ctl.WAKE);
  });

  const handler: RingHandler = {
    read(addr, size) {
      try {
        return bus.read(addr, size);
      } catch (e) {
        if (e instanceof BusError) return undefined;
        throw e;
      }
    },
    write(addr, size, value) {
      try {
        bus.write(addr, size, value);
      } catch (e) {
        // The vCPU checks windows before posting; a miss here is a device's own refusal.
        if (!(e instanceof BusError)) throw e;
      }
    },
  };

  const boot: WorkerBoot = {
    ram: core.ram.sab,
    ramBase: core.ram.base,
    ring,
    clintState: core.clint.state,
    windows: bus.windows().map((w) => ({ base: w.base, size: w.size })),
    clintBase: bus.windows().find((w) => w.name === 'clint')?.base ?? 0,
    origin: core.clock.origin,
    code: core.image.code,
    path: core.image.path,
    dtb: core.dtbAddr,
    codeCache: core.codeCache?.data,
    wantCodeCache: core.codeCache?.onUpdate !== undefined,
  };
  const worker = takeSpareWorker() ?? startWorker();
  worker.postMessage({ type: 'boot', boot });

  const pump = (): void => {
    if (core.stopped) return;
    const start = performance.now();
    let last = start;
    for (;;) {
      let n: number;
      try {
        n = server.drain(handler);
      } catch (e) {
        core.crash(e);
        return;
      }
      if (core.stopped) return;
      const t = performance.now();
      if (n > 0) last = t;
      else if (Atomics.load(ctl, Ctl.VCPU_HALTED) !== 0 || t - last > SPIN_MS) break;
      if (t - start > SLICE_MS) {
        setImmediate(pump);
        return;
      }
    }
    park();
  };
  const park = (): void => {
    Atomics.store(ctl, Ctl.DEVICE_SLEEPING, 1);
    const head = Atomics.load(ctl, Ctl.HEAD);
    const resume = (): void => {
      Atomics.store(ctl, Ctl.DEVICE_SLEEPING, 0);
      pump();
    };
    if (server.pendingEntries()) {
      resume();
      return;
    }
    const w = Atomics.waitAsync(ctl, Ctl.HEAD, head);
    if (w.async) void w.value.then(resume);
    else resume();
  };

  /**
   * How the vCPU ended (a fault, a crash, its entry returning, its thread exiting) reaches us
   * as a message, which can overtake the MMIO writes it posted before: drain those first, so
   * that the output is whole and a power-off among them wins.
   */
  const afterPosted = (verdict: () => void): void => {
    try {
      while (!core.stopped && server.drain(handler) > 0);
    } catch (e) {
      core.crash(e);
      return;
    }
    if (!core.stopped) verdict();
  };
  worker.on('message', (m: { type: string; trap?: never; error?: string; data?: Uint8Array }) => {
    if (m.type === 'code-cache' && m.data) {
      core.codeCache?.onUpdate?.(m.data);
      gotCodeCache?.();
    }
    const trap = m.trap;
    if (m.type === 'fault' && trap) afterPosted(() => core.fault(trap));
    else if (m.type === 'crash') afterPosted(() => core.crash(new GuestError(m.error ?? 'unknown error')));
    else if (m.type === 'returned') afterPosted(() => core.stop({ exitCode: 70, reason: 'returned', message: 'the kernel returned without powering off the machine' }));
  });
  let gotCodeCache: (() => void) | undefined;
  park();
  worker.on('error', (e) => afterPosted(() => core.crash(e)));
  worker.on('exit', (code) => afterPosted(() => core.crash(new Error(`the vCPU thread ended unexpectedly (exit ${code})`))));

  return {
    shutdown: async () => {
      Atomics.store(ctl, Ctl.STOPPED, 1);
      Atomics.add(ctl, Ctl.WAKE, 1);
      Atomics.notify(ctl, Ctl.WAKE);
      Atomics.notify(ctl, Ctl.HEAD);
      if (boot.wantCodeCache && core.codeCache?.data === undefined) {
        // Once per image: the stopped vCPU's event loop is free to answer, or we go without.
        await new Promise<void>((resolve) => {
          gotCodeCache = resolve;
          worker.postMessage({ type: 'code-cache?' });
          setTimeout(resolve, 200).unref();
        });
      }
      // Stopped, the thread holds nothing the host needs: end it without waiting out its
      // teardown (3-6 ms of a uk run); unref'd, it cannot keep the process alive meanwhile.
      worker.unref();
      void worker.terminate();
    },
  };
}

/** An error that happened in the guest, carried across the thread boundary as its stack text. */
class GuestError extends Error {
  constructor(text: string) {
    super(text);
    this.name = 'GuestError';
    this.stack = text;
  }
}
