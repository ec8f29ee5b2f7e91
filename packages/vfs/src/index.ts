export { Vfs, type VfsOptions } from './api/vfs.js';
export {
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_ACCMODE,
  O_CREAT,
  O_EXCL,
  O_TRUNC,
  O_APPEND,
  O_DIRECTORY,
  O_NOFOLLOW,
  SEEK_SET,
  SEEK_CUR,
  SEEK_END,
  type OpenFlags,
  parseOpenFlags,
} from './fd/open-flags.js';
export { FIRST_FD } from './fd/descriptor-table.js';
export type { Mount, MountInfo } from './mount/mount-table.js';
export { type Stat, type DirEntry, type FsStats, type NodeType, S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, typeBits } from './node/stat.js';
export { APPEND, type FileSystem, type Vnode, VnodeBase } from './node/vnode.js';
export { PATH_MAX, MAX_SYMLINKS, splitPath, joinPath, normalizePath, type Namespace } from './path/walk.js';
export { RamFs, type RamFsOptions } from './ramfs/ramfs.js';
export { RamFile, RamDir, RamSymlink } from './ramfs/ram-node.js';
export { BlockCache, type BlockCacheOptions, type BlockCacheStats } from './cache/block-cache.js';
export { FsLock } from './cache/fs-lock.js';
export { type Waiter, plainWait, kernelWait } from './cache/waiter.js';
export { VfsKey, vfs, kernelVfs } from './component/vfs-key.js';
export { type FileSystemComponent, type FileSystemComponentSpec, fileSystemComponent, dataMountPoint } from './component/fs-component.js';
export { ramfs, type RamFsComponentOptions } from './component/ramfs.js';
