import vm from 'node:vm';

/**
 * What ECMAScript itself puts in a global scope. A guest in isolated mode sees these and the
 * CPU it is handed, nothing else: no `console`, no `WebAssembly`, nothing of Node.
 */
export const ECMASCRIPT_GLOBALS: ReadonlySet<string> = new Set([
  'globalThis', 'Infinity', 'NaN', 'undefined', 'eval', 'isFinite', 'isNaN', 'parseFloat', 'parseInt',
  'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape',
  'AggregateError', 'Array', 'ArrayBuffer', 'Atomics', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Boolean',
  'DataView', 'Date', 'Error', 'EvalError', 'FinalizationRegistry', 'Float16Array', 'Float32Array', 'Float64Array',
  'Function', 'Int8Array', 'Int16Array', 'Int32Array', 'Intl', 'Iterator', 'JSON', 'Map', 'Math', 'Number',
  'Object', 'Promise', 'Proxy', 'RangeError', 'ReferenceError', 'Reflect', 'RegExp', 'Set', 'SharedArrayBuffer',
  'String', 'Symbol', 'SyntaxError', 'TypeError', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array',
  'URIError', 'WeakMap', 'WeakRef', 'WeakSet',
]);

/** Deletes every global that ECMAScript does not define; returns what could not be removed. */
export function stripGlobals(global: object): string[] {
  const left: string[] = [];
  for (const key of Reflect.ownKeys(global)) {
    if (typeof key !== 'string' || ECMASCRIPT_GLOBALS.has(key)) continue;
    if (!Reflect.deleteProperty(global, key)) left.push(key);
  }
  return left;
}

/** A fresh realm holding ECMAScript's built-ins only. */
export function createGuestRealm(): vm.Context {
  const context = vm.createContext({}, { name: 'uk guest', codeGeneration: { strings: true, wasm: false } });
  const global = vm.runInContext('globalThis', context) as object;
  stripGlobals(global);
  return context;
}
