import vm from 'node:vm';
import { BusError } from '../bus/device.js';
import { entryOf, wrapImage } from '../image/image.js';
import type { MachineCore } from '../machine/machine.js';
import { Mmu } from '../mmu/index.js';
import { Hart, HartFault, type MmioPort } from './hart.js';
import { EventLoopSleeper } from './sleepers.js';

export interface Runner {
  shutdown(): Promise<void>;
}

/**
 * Inline mode: the image runs in the VMM's own isolate and an MMIO access is a function call
 * into the device model — the fast path, like MirageOS's unix target.
 */
export function runInline(core: MachineCore): Runner {
  const sleeper = new EventLoopSleeper(core.clock.now);
  let meip = false;
  core.onExternal((asserted) => {
    meip = asserted;
    sleeper.notify();
  });
  const bus = core.bus;
  const port: MmioPort = {
    read(pa, size) {
      try {
        return bus.read(pa, size);
      } catch (e) {
        if (e instanceof BusError) throw new HartFault(5, pa, e.reason);
        throw e;
      }
    },
    write(pa, size, value) {
      try {
        bus.write(pa, size, value);
      } catch (e) {
        if (e instanceof BusError) throw new HartFault(7, pa, e.reason);
        throw e;
      }
    },
    sync() {},
  };
  const hart = new Hart({
    hartId: 0,
    ram: core.ram,
    port,
    clint: core.clint,
    externalPending: () => meip,
    sleeper,
    macrotask: setImmediate,
    now: core.clock.now,
    onFault: (t) => core.fault(t),
    onCrash: (e) => core.crash(e),
    isStopped: () => core.stopped,
    mmu: new Mmu(core.ram),
  });
  // The script, when the host wants a fresh code cache from it at the end of the run.
  let compiled: vm.Script | undefined;

  // Guest promises are the host's promises here: a rejection nobody handles is the guest's.
  const onRejection = (reason: unknown) => core.crash(reason);
  process.on('unhandledRejection', onRejection);

  setImmediate(() => {
    try {
      const script = new vm.Script(wrapImage(core.image.code), { filename: core.image.path, cachedData: core.codeCache?.data });
      if (core.codeCache?.data === undefined || script.cachedDataRejected === true) compiled = script;
      const exports: unknown = script.runInThisContext();
      const entry = entryOf(exports, core.image.path);
      entry.start(hart.cpu, { hartId: 0, dtb: core.dtbAddr }).then(
        () => core.stop({ exitCode: 70, reason: 'returned', message: 'the kernel returned without powering off the machine' }),
        (e: unknown) => core.crash(e),
      );
    } catch (e) {
      core.crash(e);
    }
  });

  return {
    shutdown: async () => {
      process.off('unhandledRejection', onRejection);
      // After the run, the cache holds every function the guest compiled, not just its top level.
      if (compiled !== undefined) core.codeCache?.onUpdate?.(new Uint8Array(compiled.createCachedData()));
      sleeper.notify();
    },
  };
}
