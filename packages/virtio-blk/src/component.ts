import { addDisk } from '@uk/blkdev';
import type { Component } from '@uk/hal';
import { virtioDriver } from '@uk/virtio';
import { DeviceId } from '@uk/virtio-spec';
import { VirtioBlkDevice, type VirtioBlkOptions } from './device/blk-device.js';

/**
 * The virtio-blk driver as a kernel component: every virtio block device in the device tree
 * becomes a BlockDevice registered as vda, vdb, ... in slot order (`ctx.devices('block')`).
 * Pending writes are flushed at power-off.
 */
export function virtioBlk(options: VirtioBlkOptions = {}): Component {
  return virtioDriver({
    name: 'virtio-blk',
    deviceId: DeviceId.Block,
    package: '@uk/virtio-blk',
    async probe(device, ctx) {
      const blk = await VirtioBlkDevice.start(device, options);
      blk.name = addDisk(ctx, blk);
      const mib = (blk.blockCount * blk.blockSize) / 1048576;
      ctx.console.write(
        `virtio-blk: ${blk.name}: ${mib >= 1 ? `${mib.toFixed(1)} MiB` : `${blk.blockCount * blk.blockSize} bytes`} in ${blk.blockSize}-byte blocks${blk.readOnly ? ', read-only' : ''}, ${blk.queueDepth} requests in flight\n`,
      );
      if (!blk.readOnly) {
        ctx.onShutdown(async () => {
          try {
            await blk.flush();
          } catch (e) {
            ctx.console.write(`virtio-blk: ${blk.name}: flush at power-off failed: ${e instanceof Error ? e.message : String(e)}\n`);
          }
        });
      }
    },
  });
}
