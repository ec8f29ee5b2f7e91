import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * The device modules an app declares in its package.json, `"uk": { "devices": [...] }`, each
 * `<module>[,key=value...]` as `--device` takes it. `uk run <app>` attaches them before any
 * `--device` of the command line.
 */
export function appDeviceSpecs(appDir: string): string[] {
  const path = join(appDir, 'package.json');
  let pkg: { uk?: { devices?: unknown } };
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`uk run: ${path}: ${(e as Error).message}`);
  }
  const devices = pkg.uk?.devices;
  if (devices === undefined) return [];
  if (!Array.isArray(devices) || !devices.every((d) => typeof d === 'string')) {
    throw new UsageError(`uk run: ${path}: "uk.devices" must be a list of strings, e.g. ["@acme/virtio-rng/device"]`);
  }
  return devices;
}
