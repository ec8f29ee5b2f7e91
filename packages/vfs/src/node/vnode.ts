import { KernelError } from '@uk/hal';
import type { DirEntry, FsStats, NodeType, Stat } from './stat.js';

/** The position `write` takes to mean "at the end of the file" (O_APPEND), found atomically by the driver. */
export const APPEND = -1;

/**
 * A mounted file system, as a file-system driver (ramfs, vfat, ...) presents it to the VFS.
 * The VFS owns paths, descriptors and mounts; the driver owns its nodes.
 */
export interface FileSystem {
  /** 'ramfs', 'vfat', ... */
  readonly type: string;
  readonly root: Vnode;
  /** Every change fails with EROFS (the VFS checks before asking the driver). */
  readonly readOnly: boolean;
  /** Names longer than this (in UTF-16 units) give ENAMETOOLONG. */
  readonly maxNameLength: number;
  statfs(): Promise<FsStats>;
  /** Makes every change so far durable. */
  sync(): Promise<void>;
  /** Syncs and detaches; the VFS calls it once nothing is open on the file system. */
  unmount(): Promise<void>;
}

/**
 * A file, directory or symbolic link of some file system. A driver hands out one vnode per
 * object while anything holds it, so that two descriptors of one file see one size.
 *
 * The VFS calls file operations only on files, directory operations only on directories,
 * and `readlink` only on symlinks; it has already checked names ('.' and '..' never reach a
 * driver), lengths and read-only mounts. Drivers check what only they can see (a directory
 * that is not empty, a name that exists, free space) and throw KernelError with a POSIX code.
 */
export interface Vnode {
  readonly fs: FileSystem;
  readonly type: NodeType;
  readonly ino: number;
  /** Bytes of a file, the target's length for a symlink. */
  readonly size: number;
  stat(): Stat;

  /** Reads up to `buf.length` bytes at `pos`; returns how many (0 at or past the end). */
  read(buf: Uint8Array, pos: number): Promise<number>;
  /**
   * Writes all of `data` at `pos`, growing the file (with zeroes between the old end and
   * `pos`); at the end of the file when `pos` is APPEND.
   */
  write(data: Uint8Array, pos: number): Promise<number>;
  truncate(size: number): Promise<void>;
  fsync(): Promise<void>;
  /** Synchronous reads and writes, for drivers that never wait (ramfs): the system-call fast path. */
  readSync?(buf: Uint8Array, pos: number): number;
  writeSync?(data: Uint8Array, pos: number): number;

  /** The node named `name` in this directory, or undefined. */
  lookup(name: string): Promise<Vnode | undefined>;
  /** A new file, directory or symlink (to `target`); EEXIST when the name is taken. */
  create(name: string, type: NodeType, target?: string): Promise<Vnode>;
  /** Removes the entry `name`, which is `node` (ENOTEMPTY for a directory with entries). */
  remove(name: string, node: Vnode): Promise<void>;
  /**
   * Moves entry `name` (which is `node`) to `toName` in directory `to` of the same file
   * system, replacing `replaced` (what `toName` named, already checked for type) atomically.
   */
  rename(name: string, node: Vnode, to: Vnode, toName: string, replaced: Vnode | undefined): Promise<void>;
  readdir(): Promise<DirEntry[]>;

  readlink(): Promise<string>;

  /** A descriptor was opened on this node. */
  opened?(): void;
  /** A descriptor of this node was closed (last one: write back what is pending, free an unlinked file). */
  closed?(): Promise<void>;
  /** Sets access and modification times (ms since the epoch). */
  setTimes?(atimeMs: number, mtimeMs: number): Promise<void>;
}

/**
 * A base for drivers' vnodes: every operation fails as it should on the wrong kind of node,
 * so a file class implements only file operations and a directory class only directory ones.
 */
export abstract class VnodeBase implements Partial<Vnode> {
  abstract readonly type: NodeType;
  abstract readonly ino: number;

  read(_buf: Uint8Array, _pos: number): Promise<number> {
    return this.#wrongKind('read');
  }
  write(_data: Uint8Array, _pos: number): Promise<number> {
    return this.#wrongKind('write');
  }
  truncate(_size: number): Promise<void> {
    return this.#wrongKind('truncate');
  }
  async fsync(): Promise<void> {}
  lookup(_name: string): Promise<Vnode | undefined> {
    return this.#notDir('lookup');
  }
  create(_name: string, _type: NodeType, _target?: string): Promise<Vnode> {
    return this.#notDir('create');
  }
  remove(_name: string, _node: Vnode): Promise<void> {
    return this.#notDir('remove');
  }
  rename(_name: string, _node: Vnode, _to: Vnode, _toName: string, _replaced: Vnode | undefined): Promise<void> {
    return this.#notDir('rename');
  }
  readdir(): Promise<DirEntry[]> {
    return this.#notDir('readdir');
  }
  readlink(): Promise<string> {
    return Promise.reject(new KernelError('EINVAL', `readlink of inode ${this.ino}: it is not a symbolic link`));
  }

  #wrongKind(op: string): Promise<never> {
    const code = this.type === 'directory' ? 'EISDIR' : 'EINVAL';
    return Promise.reject(new KernelError(code, `${op} of inode ${this.ino}: it is a ${this.type}, not a file`));
  }
  #notDir(op: string): Promise<never> {
    return Promise.reject(new KernelError('ENOTDIR', `${op} in inode ${this.ino}: it is a ${this.type}, not a directory`));
  }
}
