import { join, relative } from 'node:path';
import type { SlotDevice } from '@uk/vmm';
import { appDeviceSpecs } from './app-devices.js';
import { loadDevice } from './device-module.js';
import { parseDeviceSpec } from './device-spec.js';

/**
 * The SlotDevices of device modules, in slot order: those the app's package.json declares
 * ("uk.devices"), then the command line's `--device` ones. Packages are found from the app's
 * directory when running an app, else from the current one; a path in package.json is
 * relative to the app, a path on the command line to the current directory.
 */
export async function loadDeviceModules(appDir: string | undefined, cliSpecs: readonly string[]): Promise<SlotDevice[]> {
  const cwd = process.cwd();
  const devices: SlotDevice[] = [];
  if (appDir !== undefined) {
    const where = `${relative(cwd, join(appDir, 'package.json')) || 'package.json'} "uk.devices"`;
    for (const text of appDeviceSpecs(appDir)) {
      devices.push(await loadDevice(parseDeviceSpec(text, where), { where, packagesFrom: appDir, pathsFrom: appDir, addIn: appDir }));
    }
  }
  for (const text of cliSpecs) {
    const where = '--device';
    const base = appDir ?? cwd;
    devices.push(await loadDevice(parseDeviceSpec(text, where), { where, packagesFrom: base, pathsFrom: cwd, addIn: base }));
  }
  return devices;
}
