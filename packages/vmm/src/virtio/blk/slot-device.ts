import type { SlotDevice, SlotEnv } from '../../machine/machine.js';
import { VirtioMmioModel } from '../mmio/device-model.js';
import { VirtioBlkBackend } from './blk-backend.js';
import { checkDiskImage, type DiskSpec, parseDiskSpec } from './disk-spec.js';
import { ImageFile } from './image-file.js';

export interface VirtioBlkDeviceOptions {
  /** Where protocol and host I/O errors are reported (default: the host's stderr). */
  readonly log?: (line: string) => void;
}

/** A virtio-blk slot device, with its backend once attached (for statistics and tests). */
export interface VirtioBlkSlotDevice extends SlotDevice {
  readonly spec: DiskSpec;
  readonly backend: VirtioBlkBackend | undefined;
  readonly model: VirtioMmioModel | undefined;
}

/**
 * A virtio-blk disk for a machine slot, backed by a raw image file. `spec` is the `--disk`
 * syntax `path[,ro]` or an object. The image is checked now, so that a missing file or one
 * that is not whole 512-byte sectors is a DiskError before boot; it is opened when the
 * machine starts and closed (after its I/O has finished) when the machine stops.
 */
export function virtioBlkDevice(spec: string | DiskSpec, options: VirtioBlkDeviceOptions = {}): VirtioBlkSlotDevice {
  const disk = typeof spec === 'string' ? parseDiskSpec(spec) : spec;
  checkDiskImage(disk);
  let backend: VirtioBlkBackend | undefined;
  let model: VirtioMmioModel | undefined;
  return {
    name: 'virtio-blk',
    spec: disk,
    get backend() {
      return backend;
    },
    get model() {
      return model;
    },
    attach(env: SlotEnv) {
      const file = ImageFile.open(disk.path, disk.readOnly ?? false);
      backend = new VirtioBlkBackend(file, { readOnly: disk.readOnly ?? false, serial: disk.serial, queueSize: disk.queueSize });
      model = new VirtioMmioModel(backend, { ram: env.ram, irq: env.irq, log: options.log, label: `virtio-blk on slot ${env.slot} (${disk.path})` });
      return model;
    },
    async close() {
      const b = backend;
      if (b === undefined) return;
      backend = undefined;
      await b.idle();
      await b.file.close();
    },
  };
}
