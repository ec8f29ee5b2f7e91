import { type KernelContext, serviceKey } from '@uk/hal';
import { Vfs } from '../api/vfs.js';

/** The kernel's VFS: `ctx.get(VfsKey)`. The first file-system component to start provides it. */
export const VfsKey = serviceKey<Vfs>('vfs', 'a file system: ramfs() from @uk/vfs, or fat(device) from @uk/fatfs');

/** The kernel's VFS (ENODEV naming what to compose when there is none). */
export function vfs(ctx: Pick<KernelContext, 'get'>): Vfs {
  return ctx.get(VfsKey);
}

/**
 * The kernel's VFS, made and provided on first use. At power-off it unmounts everything, so
 * that block file systems write back and mark themselves clean before the disks flush.
 */
export function kernelVfs(ctx: Pick<KernelContext, 'tryGet' | 'provide' | 'onShutdown' | 'console'>): Vfs {
  let v = ctx.tryGet(VfsKey);
  if (v === undefined) {
    const made = new Vfs();
    v = made;
    ctx.provide(VfsKey, made);
    ctx.onShutdown(async () => {
      try {
        await made.unmountAll();
      } catch (e) {
        ctx.console.write(`vfs: unmounting at power-off failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    });
  }
  return v;
}
