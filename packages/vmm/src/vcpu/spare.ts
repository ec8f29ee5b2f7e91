import type { Worker } from 'node:worker_threads';

/**
 * Starting a Worker costs tens of milliseconds of Node bootstrap. A host that knows it will
 * boot an isolated guest (the CLI, as its first act) starts one ahead, while it loads the
 * rest of itself; the machine then takes it.
 */
let spare: Worker | undefined;

function workerUrl(): URL {
  const here = import.meta.url;
  // From source (the tests), the worker comes from the package's build.
  if (here.endsWith('.ts')) return new URL('../../dist/vcpu-worker.cjs', here);
  return new URL('./vcpu-worker.cjs', here);
}

/** A vCPU thread that waits for its machine's boot message. */
export function startWorker(): Worker {
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  return new Worker(workerUrl(), { stdout: false, stderr: false });
}

/** Starts a vCPU thread now, for the next isolated machine to take. */
export function prestartVcpu(): void {
  if (spare === undefined) {
    spare = startWorker();
    // An unused spare must not keep the host alive.
    spare.unref();
  }
}

export function takeSpareWorker(): Worker | undefined {
  const w = spare;
  spare = undefined;
  w?.ref();
  return w;
}
