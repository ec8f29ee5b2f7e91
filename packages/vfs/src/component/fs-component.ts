import { type Component, InitLevel, type KernelContext } from '@uk/hal';
import type { Vfs } from '../api/vfs.js';
import type { FileSystem } from '../node/vnode.js';
import { kernelVfs, VfsKey } from './vfs-key.js';

/** A file-system component: a Component that mounts one file system into the kernel's VFS. */
export interface FileSystemComponent extends Component {
  /**
   * Where it mounts. `kernel({ fs: { '/data': fat('vda') } })` is meant to set it from the
   * key; `at` in the factory's options sets it too. Unset, the first file system goes to
   * '/', the next to `fallback` (see fileSystemComponent).
   */
  mountPoint?: string;
}

export interface FileSystemComponentSpec {
  readonly name: string;
  readonly package: string;
  /** The mount point asked for in the factory's options. */
  readonly at?: string;
  /** Where to mount when nothing says where and / is taken. */
  fallback(vfs: Vfs): string;
  /** Makes the file system (reads the disk, ...). */
  open(ctx: KernelContext): Promise<FileSystem> | FileSystem;
  /** What to print once mounted. */
  describe?(fs: FileSystem, at: string): string;
}

/** Turns a file-system driver into a component at InitLevel.FileSystems that mounts it. */
export function fileSystemComponent(spec: FileSystemComponentSpec): FileSystemComponent {
  return {
    name: spec.name,
    level: InitLevel.FileSystems,
    package: spec.package,
    provides: [VfsKey],
    mountPoint: spec.at,
    async init(this: FileSystemComponent, ctx: KernelContext): Promise<void> {
      const vfs = kernelVfs(ctx);
      const fs = await spec.open(ctx);
      const at = this.mountPoint ?? (vfs.mounts().length === 0 ? '/' : spec.fallback(vfs));
      await vfs.mount(at, fs);
      const note = spec.describe?.(fs, at);
      if (note !== undefined) ctx.console.write(`${note}\n`);
    },
  };
}

/** `/data` if nothing is mounted there yet, else `/mnt/<name>`. */
export function dataMountPoint(vfs: Vfs, name: string): string {
  return vfs.mounts().some((m) => m.path === '/data') ? `/mnt/${name}` : '/data';
}
