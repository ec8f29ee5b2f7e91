/**
 * The vCPU thread of isolated mode. It keeps what it needs of Node in closures, removes every
 * non-ECMAScript global from its own realm, evaluates the image in a fresh realm that holds
 * ECMAScript's built-ins only, and enters it.
 */
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { Clint } from '../devices/clint.js';
import { entryOf, wrapImage } from '../image/image.js';
import { Layout } from '../machine/layout.js';
import { Mmu } from '../mmu/index.js';
import { Ctl, RingClient } from './exit-ring.js';
import { createGuestRealm, stripGlobals } from './guest-realm.js';
import { Hart, HartFault, type MmioPort, type Sleeper } from './hart.js';
import type { WorkerBoot } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('the vCPU runs only as a worker thread');
const post = port.postMessage.bind(port);
const hrtime = process.hrtime.bigint;
const macrotask = setImmediate;

// A worker may be started ahead of its machine (see spare.ts); it then waits for its boot.
if (workerData !== null && workerData !== undefined) run(workerData as WorkerBoot);
else port.once('message', (m: { type: 'boot'; boot: WorkerBoot }) => run(m.boot));

function run(boot: WorkerBoot): void {
  const origin = boot.origin;
  const now = (): number => Number(hrtime() - origin);

  const client = new RingClient(boot.ring);
  const ctl = client.ctl;
  const clint = new Clint(boot.clintState, { now });
  const clintBase = boot.clintBase;
  const clintEnd = clintBase + Layout.clint.size;
  const windows = boot.windows;

  const mapped = (pa: number, size: number): boolean => {
    for (const w of windows) if (pa >= w.base && pa + size <= w.base + w.size) return true;
    return false;
  };

  const mmio: MmioPort = {
    read(pa, size) {
      if (pa >= clintBase && pa < clintEnd) return clint.read(pa - clintBase, size);
      if (!mapped(pa, size)) throw new HartFault(5, pa, 'no device at this address');
      const v = client.read(pa, size);
      if (v === undefined) throw new HartFault(5, pa, 'no device answered');
      return v;
    },
    write(pa, size, value) {
      if (pa >= clintBase && pa < clintEnd) return clint.write(pa - clintBase, size, value);
      if (!mapped(pa, size)) throw new HartFault(7, pa, 'no device at this address');
      client.write(pa, size, value);
    },
    sync() {
      client.drain();
    },
  };

  const sleeper: Sleeper = {
    sleep(deadline) {
      const seen = Atomics.load(ctl, Ctl.WAKE);
      if (Atomics.load(ctl, Ctl.MEIP) !== 0 || Atomics.load(ctl, Ctl.STOPPED) !== 0) return undefined;
      const ms = Number.isFinite(deadline) ? Math.max(0, (deadline - now()) / 1e6) : undefined;
      Atomics.store(ctl, Ctl.VCPU_HALTED, 1);
      Atomics.wait(ctl, Ctl.WAKE, seen, ms);
      Atomics.store(ctl, Ctl.VCPU_HALTED, 0);
      return undefined;
    },
  };

  const ramBytes = new Uint8Array(boot.ram);
  const hart = new Hart({
    hartId: 0,
    ram: { base: boot.ramBase, size: ramBytes.length, bytes: ramBytes },
    port: mmio,
    clint,
    externalPending: () => Atomics.load(ctl, Ctl.MEIP) !== 0,
    sleeper,
    macrotask,
    now,
    onFault: (trap) => post({ type: 'fault', trap }),
    onCrash: (e) => post({ type: 'crash', error: describe(e) }),
    isStopped: () => Atomics.load(ctl, Ctl.STOPPED) !== 0,
    mmu: new Mmu({ base: boot.ramBase, size: ramBytes.length, bytes: ramBytes }),
  });

  const describe = (e: unknown): string => {
    if (e instanceof Error || (typeof e === 'object' && e !== null && 'stack' in e)) return String((e as Error).stack ?? e);
    return String(e);
  };

  // Node's objects stay reachable only through the closures above.
  stripGlobals(globalThis);

  const realm = createGuestRealm();
  let entry: ReturnType<typeof entryOf>;
  try {
    const script = new vm.Script(wrapImage(boot.code), { filename: boot.path, cachedData: boot.codeCache });
    if (boot.wantCodeCache && (boot.codeCache === undefined || script.cachedDataRejected === true)) {
      // Asked for at the end of the run, when it holds every function the guest compiled.
      port?.on('message', (m: { type: string }) => {
        if (m.type !== 'code-cache?') return;
        const data = new Uint8Array(script.createCachedData());
        post({ type: 'code-cache', data }, [data.buffer]);
      });
    }
    entry = entryOf(script.runInContext(realm), boot.path);
  } catch (e) {
    post({ type: 'crash', error: describe(e) });
    throw e;
  }
  entry.start(hart.cpu, { hartId: 0, dtb: boot.dtb }).then(
    () => post({ type: 'returned' }),
    (e: unknown) => post({ type: 'crash', error: describe(e) }),
  );
}
