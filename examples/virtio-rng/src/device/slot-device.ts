import { type SlotDevice, type SlotEnv, VirtioMmioModel } from '@uk/vmm';
import { type RngBackendOptions, VirtioRngBackend } from './rng-backend.js';

export interface VirtioRngDeviceOptions extends RngBackendOptions {
  /** Where protocol errors are reported (default: the host's stderr). */
  readonly log?: (line: string) => void;
}

/** A virtio-rng slot device, with its backend and model once attached (for statistics and tests). */
export interface VirtioRngSlotDevice extends SlotDevice {
  readonly backend: VirtioRngBackend | undefined;
  readonly model: VirtioMmioModel | undefined;
}

/**
 * A virtio entropy device for a machine slot: the generic virtio-mmio model of @uk/vmm with
 * the entropy backend behind it. The options are checked now, so that a bad one is an error
 * before boot.
 */
export function virtioRngDevice(options: VirtioRngDeviceOptions = {}): VirtioRngSlotDevice {
  // Built once to check the options; each attach (a machine reset attaches again) gets its own.
  new VirtioRngBackend(options);
  let backend: VirtioRngBackend | undefined;
  let model: VirtioMmioModel | undefined;
  return {
    name: 'virtio-rng',
    get backend() {
      return backend;
    },
    get model() {
      return model;
    },
    attach(env: SlotEnv) {
      backend = new VirtioRngBackend(options);
      model = new VirtioMmioModel(backend, { ram: env.ram, irq: env.irq, log: options.log, label: `virtio-rng on slot ${env.slot}` });
      return model;
    },
  };
}
