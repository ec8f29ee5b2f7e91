import { RamFs, type RamFsOptions } from '../ramfs/ramfs.js';
import { type FileSystemComponent, fileSystemComponent } from './fs-component.js';

export interface RamFsComponentOptions extends RamFsOptions {
  /** Mount point (default: '/', or '/tmp' when something else is the root). */
  at?: string;
}

/** ramfs as a kernel component: `fs: { '/': ramfs() }`. */
export function ramfs(options: RamFsComponentOptions = {}): FileSystemComponent {
  return fileSystemComponent({
    name: 'ramfs',
    package: '@uk/vfs',
    at: options.at,
    fallback: () => '/tmp',
    open: () => new RamFs(options),
  });
}
