/**
 * A Node built-in loaded on first use, synchronously. Loading `worker_threads` or `dgram`
 * costs milliseconds of a `uk run`; a machine that never starts a Worker or opens a UDP
 * socket never pays it. (A static import would load it with the package; importing
 * `node:module` for createRequire would itself cost a millisecond.)
 */
export function builtin<T>(name: `node:${string}`): T {
  return process.getBuiltinModule(name) as T;
}
