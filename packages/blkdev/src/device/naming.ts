import { KernelError, type KernelContext } from '@uk/hal';
import type { BlockDevice } from './block-device.js';

/** The kind under which block devices are registered: `ctx.addDevice(BLOCK_DEVICE, 'vda', dev)`. */
export const BLOCK_DEVICE = 'block';

/** The n-th disk's name, as Linux names virtio disks: vda .. vdz, vdaa, vdab, ... */
export function diskName(index: number, prefix = 'vd'): string {
  if (!Number.isInteger(index) || index < 0) throw new KernelError('EINVAL', `disk index ${index} must be a whole number from 0`);
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  return prefix + s;
}

/**
 * Registers a disk under the first free name (vda, vdb, ...) and returns the name. Drivers
 * probe their device-tree nodes in address order, so names follow slot order.
 */
export function addDisk(ctx: Pick<KernelContext, 'addDevice' | 'devices'>, dev: BlockDevice, prefix = 'vd'): string {
  const taken = ctx.devices<BlockDevice>(BLOCK_DEVICE);
  let i = 0;
  while (taken.has(diskName(i, prefix))) i++;
  const name = diskName(i, prefix);
  ctx.addDevice(BLOCK_DEVICE, name, dev);
  return name;
}

/** Every registered block device by name. */
export function blockDevices(ctx: Pick<KernelContext, 'devices'>): ReadonlyMap<string, BlockDevice> {
  return ctx.devices<BlockDevice>(BLOCK_DEVICE);
}

/** The block device `name`, or ENODEV naming the devices there are. */
export function blockDevice(ctx: Pick<KernelContext, 'devices'>, name: string): BlockDevice {
  const all = blockDevices(ctx);
  const dev = all.get(name);
  if (dev === undefined) {
    const have = [...all.keys()];
    throw new KernelError(
      'ENODEV',
      `no block device named ${name} (${have.length > 0 ? `there are: ${have.join(', ')}` : 'there are none'}); compose a driver such as virtioBlk() and give the machine a disk (uk run --disk FILE)`,
    );
  }
  return dev;
}
