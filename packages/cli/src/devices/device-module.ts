import { pathToFileURL } from 'node:url';
import type { SlotDevice } from '@uk/vmm';
import { UsageError } from '../errors.js';
import type { DeviceSpec } from './device-spec.js';
import { isPathSpecifier, ModuleNotFound, resolveModule } from './module-resolver.js';

/**
 * The device-module contract: a module whose default export is a factory
 * `(options: Record<string, string>) => SlotDevice`. `uk run --device <module>[,key=value...]`
 * and an app's package.json "uk": { "devices": [...] } name such modules; each factory is
 * called with the options and its device takes the next virtio-mmio slot.
 */
export type DeviceFactory = (options: Record<string, string>) => SlotDevice;

export interface DeviceSource {
  /** Where the spec came from, for messages: "--device" or "rng-app/package.json uk.devices". */
  readonly where: string;
  /** Directory packages are looked up from (the app's, or the current one). */
  readonly packagesFrom: string;
  /** Directory relative paths are taken from. */
  readonly pathsFrom: string;
  /** The directory to `pnpm add` a missing package in. */
  readonly addIn: string;
}

/** Resolves, imports and calls a device module; every failure is one UsageError line. */
export async function loadDevice(spec: DeviceSpec, source: DeviceSource): Promise<SlotDevice> {
  const fail = (why: string) => new UsageError(`uk run: ${source.where} ${spec.module}: ${why}`);
  let file: string;
  try {
    file = resolveModule(spec.module, isPathSpecifier(spec.module) ? source.pathsFrom : source.packagesFrom);
  } catch (e) {
    if (!(e instanceof ModuleNotFound)) throw e;
    throw fail(e.missingPackage === undefined ? e.message : `${e.message}; add it with \`pnpm add ${e.missingPackage}\` in ${source.addIn}`);
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw fail(`loading ${file} failed: ${firstLine(e)}`);
  }
  const factory = mod.default;
  if (typeof factory !== 'function') {
    throw fail(`${file} has no default export function; a device module must \`export default (options: Record<string, string>) => SlotDevice\``);
  }
  let device: unknown;
  try {
    device = (factory as DeviceFactory)({ ...spec.options });
  } catch (e) {
    throw fail(firstLine(e));
  }
  if (!isSlotDevice(device)) throw fail(`its default export returned ${describe(device)}, not a SlotDevice ({ name, attach(env) })`);
  return device;
}

function isSlotDevice(d: unknown): d is SlotDevice {
  return typeof d === 'object' && d !== null && typeof (d as SlotDevice).name === 'string' && typeof (d as SlotDevice).attach === 'function';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return typeof v;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] ?? text;
}
