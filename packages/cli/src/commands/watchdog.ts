
/**
 * In inline mode the guest shares this thread: a guest spinning in a synchronous loop never
 * gives the machine's --timeout a chance to fire. A watchdog thread waits for the run to end;
 * if it has not ended shortly after the timeout, it prints the report and ends the process —
 * V8 cannot interrupt the main thread's JavaScript and leave Node in a usable state.
 */
export function startWatchdog(timeoutMs: number, graceMs = 1000): { disarm(): void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // Loaded here, not imported: only an inline run with a timeout pays for worker_threads.
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { flag, ms, timeoutMs } = workerData;
     if (Atomics.wait(flag, 0, 0, ms) === 'timed-out') {
       require('node:fs').writeSync(2, 'uk: guest still running after ' + timeoutMs + ' ms (--timeout) and never yielded to the machine (inline mode); process ended\\n');
       process.kill(process.pid, 'SIGKILL');
     }`,
    { eval: true, workerData: { flag, ms: timeoutMs + graceMs, timeoutMs } },
  );
  worker.unref();
  return {
    disarm() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
  };
}
