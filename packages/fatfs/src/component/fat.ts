import { blockDevice } from '@uk/blkdev';
import { dataMountPoint, type FileSystemComponent, fileSystemComponent, kernelWait } from '@uk/vfs';
import { type FatOptions, FatVolume } from '../volume/fat-volume.js';

export interface FatComponentOptions extends Omit<FatOptions, 'wait'> {
  /** Mount point (default: '/' when nothing is mounted yet, else '/data', else '/mnt/<device>'). */
  at?: string;
}

/**
 * A FAT volume on a block device as a kernel component: `fs: { '/data': fat('vda') }`.
 * Compose a driver that registers the device (virtioBlk() from @uk/virtio-blk). Waits for
 * the disk go through the scheduler when one is composed; at power-off the VFS unmounts the
 * volume, which writes everything back and marks it clean.
 */
export function fat(device: string, options: FatComponentOptions = {}): FileSystemComponent {
  return fileSystemComponent({
    name: 'fatfs',
    package: '@uk/fatfs',
    at: options.at,
    fallback: (vfs) => dataMountPoint(vfs, device),
    async open(ctx) {
      const vol = await FatVolume.mount(blockDevice(ctx, device), { ...options, wait: kernelWait(ctx) });
      if (vol.wasDirty) ctx.console.write(`fatfs: ${device} was not cleanly unmounted; some data may be damaged (run fsck.fat on the image)\n`);
      return vol;
    },
    describe(fs, at) {
      const vol = fs as FatVolume;
      const mib = (vol.geo.clusterCount * vol.geo.clusterSize) / 1048576;
      return `fatfs: ${device}: FAT${vol.geo.type}, ${mib.toFixed(1)} MiB in ${vol.geo.clusterSize}-byte clusters, mounted at ${at}${vol.readOnly ? ' (read-only)' : ''}`;
    },
  });
}
