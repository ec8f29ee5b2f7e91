import type { SlotDevice } from '@uk/vmm';
import { parseDeviceOptions } from './options.js';
import { virtioRngDevice } from './slot-device.js';

export { VirtioRngBackend, type RngBackendOptions } from './rng-backend.js';
export { virtioRngDevice, type VirtioRngDeviceOptions, type VirtioRngSlotDevice } from './slot-device.js';
export { cryptoSource, seededSource, type RandomSource } from './random-source.js';
export { parseDeviceOptions, DEVICE_OPTION_KEYS } from './options.js';

/**
 * The device-module contract of `uk run --device` and package.json "uk.devices": the default
 * export takes the `key=value` options as strings and returns the SlotDevice to attach.
 * `--device @acme/virtio-rng/device,seed=42,bytesPerRequest=64`
 */
export default function createDevice(options: Readonly<Record<string, string>> = {}): SlotDevice {
  return virtioRngDevice(parseDeviceOptions(options));
}
