/** What a vnode is. */
export type NodeType = 'file' | 'directory' | 'symlink';

/** File type bits of `Stat.mode`, as in POSIX <sys/stat.h>. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** The type bits for a node type. */
export function typeBits(type: NodeType): number {
  return type === 'file' ? S_IFREG : type === 'directory' ? S_IFDIR : S_IFLNK;
}

/** What `stat`, `lstat` and `fstat` return: POSIX's struct stat, times in ms since the epoch. */
export interface Stat {
  /** The mount's device number. */
  dev: number;
  ino: number;
  type: NodeType;
  /** Type bits and permission bits (S_IFREG | 0o644 ...). */
  mode: number;
  nlink: number;
  /** Bytes (for a symlink, the target's length). */
  size: number;
  /** 512-byte units allocated. */
  blocks: number;
  /** The preferred I/O size. */
  blksize: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
}

/** One name of a directory, as `readdir` lists it ('.' and '..' are not listed). */
export interface DirEntry {
  name: string;
  type: NodeType;
  ino: number;
}

/** What `statfs` reports of a mounted file system. */
export interface FsStats {
  /** The file system's type: 'ramfs', 'vfat', ... */
  type: string;
  /** Bytes per allocation unit. */
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  /** The longest name a directory entry can hold. */
  maxNameLength: number;
  readOnly: boolean;
}
