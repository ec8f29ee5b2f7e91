import type { VirtioRngDeviceOptions } from './slot-device.js';
import { seededSource } from './random-source.js';

/** The keys `--device @acme/virtio-rng/device,key=value` understands. */
export const DEVICE_OPTION_KEYS = ['seed', 'bytesPerRequest', 'queueSize'] as const;

/**
 * Turns the device module's string options into typed ones; a key it does not know or a value
 * that is not a number it can use is an Error whose message names the key and what fits.
 */
export function parseDeviceOptions(options: Readonly<Record<string, string>>): VirtioRngDeviceOptions {
  const out: { -readonly [K in keyof VirtioRngDeviceOptions]: VirtioRngDeviceOptions[K] } = {};
  for (const [key, value] of Object.entries(options)) {
    switch (key) {
      case 'seed':
        out.source = seededSource(whole(key, value, 0, 0xffff_ffff));
        break;
      case 'bytesPerRequest':
        out.bytesPerRequest = whole(key, value, 1, 0xffff_ffff);
        break;
      case 'queueSize': {
        const n = whole(key, value, 1, 32768);
        if ((n & (n - 1)) !== 0) throw new RangeError(`virtio-rng: queueSize=${value}: expected a power of two from 1 to 32768`);
        out.queueSize = n;
        break;
      }
      default:
        throw new RangeError(`virtio-rng: unknown option ${key}; the options are ${DEVICE_OPTION_KEYS.map((k) => `${k}=N`).join(', ')}`);
    }
  }
  return out;
}

function whole(key: string, value: string, min: number, max: number): number {
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(Number.isInteger(n) && n >= min && n <= max)) throw new RangeError(`virtio-rng: ${key}=${value}: expected a whole number from ${min} to ${max}`);
  return n;
}
