import { type BlockDevice, RamDisk } from '@uk/blkdev';
import { Vfs } from '@uk/vfs';
import { type FatOptions, FatVolume } from '../volume/fat-volume.js';

/**
 * Mounts a FAT image at '/' of a new Vfs: the way to use @uk/fatfs outside a kernel. An
 * image in a Uint8Array is used in place (not copied), so writes change it; call
 * `vfs.unmountAll()` to write everything back and mark the volume clean.
 *
 * ```ts
 * const vfs = await openFat(readFileSync('disk.img'));
 * console.log(await vfs.readdir('/'));
 * ```
 */
export async function openFat(image: Uint8Array | BlockDevice, options: FatOptions = {}): Promise<Vfs> {
  const dev = image instanceof Uint8Array ? new RamDisk({ bytes: image, readOnly: options.readOnly }) : image;
  const vfs = new Vfs();
  await vfs.mount('/', await FatVolume.mount(dev, options));
  return vfs;
}
