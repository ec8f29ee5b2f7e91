import { KernelError } from '@uk/hal';
import { DescriptorTable, FD_APPEND, FD_DIRECTORY, FD_READ, FD_SYNC, FD_WRITE, OpenFile } from '../fd/descriptor-table.js';
import {
  O_ACCMODE,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_RDONLY,
  O_TRUNC,
  type OpenFlags,
  parseOpenFlags,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
} from '../fd/open-flags.js';
import { type Mount, type MountInfo, MountTable } from '../mount/mount-table.js';
import type { DirEntry, FsStats, Stat } from '../node/stat.js';
import { APPEND, type FileSystem, type Vnode } from '../node/vnode.js';
import { type Namespace, normalizePath, splitPath, type Walk, walk } from '../path/walk.js';

export interface VfsOptions {
  /** Descriptors open at once before EMFILE (default 1024). */
  maxOpenFiles?: number;
}

const READABLE_SYNC = FD_READ | FD_SYNC;
const WRITABLE_SYNC = FD_WRITE | FD_SYNC;

/**
 * The virtual file system: one name space of mounted file systems, a descriptor table, and
 * the POSIX-like calls over them. Every failure is a KernelError with a POSIX code.
 *
 * `readSync`/`writeSync`/`preadSync`/`pwriteSync` are the system-call fast path: an index
 * into the descriptor table and a call into the driver, no promise and no allocation. They
 * work on files of drivers that never wait (ramfs) and throw EAGAIN elsewhere.
 */
export class Vfs implements Namespace {
  readonly #mounts = new MountTable();
  readonly #fds: DescriptorTable;
  readonly #slots: Array<OpenFile | undefined>;
  #cwd: Vnode[] = [];
  #cwdPath = '/';

  constructor(options: VfsOptions = {}) {
    this.#fds = new DescriptorTable(options.maxOpenFiles ?? 1024);
    this.#slots = this.#fds.slots;
  }

  // ── Namespace ─────────────────────────────────────────────────────────────────────────

  root(): Vnode {
    return this.#mounts.rootNode();
  }

  cwd(): readonly Vnode[] {
    return this.#cwd.length > 0 ? this.#cwd : [this.#mounts.rootNode()];
  }

  crossMount(node: Vnode): Vnode {
    return this.#mounts.crossMount(node);
  }

  // ── Mounts ────────────────────────────────────────────────────────────────────────────

  /**
   * Mounts `fs` at `path`. The first mount must be '/'; later ones need a directory, which
   * is made (with its parents) when it is missing and the file system above allows it.
   */
  async mount(path: string, fs: FileSystem): Promise<void> {
    if (path.charCodeAt(0) !== 47) throw new KernelError('EINVAL', `mount point "${path}" must be an absolute path`);
    const at = normalizePath(path);
    if (at === '/') {
      this.#mounts.add('/', fs, undefined);
      return;
    }
    if (this.#mounts.root === undefined) throw new KernelError('ENOENT', `cannot mount on ${at}: nothing is mounted at / yet; mount the root first`);
    await this.mkdir(at, { recursive: true });
    const w = await walk(this, at, true);
    if (w.node === undefined) throw new KernelError('ENOENT', `cannot mount on ${at}: it does not exist`);
    this.#mounts.add(at, fs, w.node);
  }

  /** Syncs and detaches the file system at `path`; EBUSY while files are open on it. */
  async unmount(path: string): Promise<void> {
    const m = this.#mounts.find(normalizePath(path));
    if (m === undefined) throw new KernelError('EINVAL', `${path} is not a mount point`);
    if (m.openFiles > 0) throw new KernelError('EBUSY', `cannot unmount ${m.path}: ${m.openFiles} files are open on it`);
    if (this.#cwd.some((n) => n.fs === m.fs)) this.#cwd = [];
    this.#mounts.remove(m);
    await m.fs.unmount();
  }

  /** Unmounts everything, deepest first: what a kernel does at power-off. */
  async unmountAll(): Promise<void> {
    for (const [fd] of [...this.#fds.entries()]) await this.close(fd).catch(() => {});
    let first: unknown;
    for (const m of this.#mounts.list().reverse()) {
      try {
        this.#mounts.remove(m);
        await m.fs.unmount();
      } catch (e) {
        first ??= e;
      }
    }
    this.#cwd = [];
    if (first !== undefined) throw first;
  }

  mounts(): MountInfo[] {
    return this.#mounts.list().map((m) => ({ path: m.path, type: m.fs.type, readOnly: m.fs.readOnly }));
  }

  async statfs(path: string): Promise<FsStats> {
    const node = await this.#existing(path, true);
    return node.fs.statfs();
  }

  // ── Descriptors ───────────────────────────────────────────────────────────────────────

  /** Opens (or with O_CREAT makes) a file; returns the lowest free descriptor. */
  async open(path: string, flags: OpenFlags = O_RDONLY): Promise<number> {
    const f = parseOpenFlags(flags);
    const acc = f & O_ACCMODE;
    const exclusive = (f & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL);
    const w = await walk(this, path, (f & O_NOFOLLOW) === 0 && !exclusive);
    let node = w.node;
    if (node === undefined) {
      if ((f & O_CREAT) === 0) throw new KernelError('ENOENT', `${path}: no such file or directory`);
      if (w.trailingSlash) throw new KernelError('EISDIR', `${path}: O_CREAT cannot make a directory`);
      this.#writable(w.parent, path);
      try {
        node = await w.parent.create(w.name, 'file');
      } catch (e) {
        if (exclusive || !isCode(e, 'EEXIST')) throw e;
        node = await w.parent.lookup(w.name);
        if (node === undefined) throw e;
      }
    } else {
      if (exclusive) throw new KernelError('EEXIST', `${path}: it exists already (O_CREAT | O_EXCL)`);
      if (node.type === 'symlink') throw new KernelError('ELOOP', `${path}: it is a symbolic link (O_NOFOLLOW)`);
      if (node.type === 'directory') {
        if (acc !== O_RDONLY || (f & O_TRUNC) !== 0) throw new KernelError('EISDIR', `${path}: a directory cannot be opened for writing`);
      } else if ((f & O_DIRECTORY) !== 0 || w.trailingSlash) {
        throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
      }
      if (acc !== O_RDONLY) this.#writable(node, path);
      if ((f & O_TRUNC) !== 0 && acc !== O_RDONLY && node.size > 0) await node.truncate(0);
    }
    let bits = acc === O_RDONLY ? FD_READ : acc === 1 ? FD_WRITE : FD_READ | FD_WRITE;
    if ((f & O_APPEND) !== 0) bits |= FD_APPEND;
    if (node.type === 'directory') bits |= FD_DIRECTORY;
    else if (node.readSync !== undefined && node.writeSync !== undefined) bits |= FD_SYNC;
    const mount = this.#mounts.of(node);
    const fd = this.#fds.add(new OpenFile(node, f, bits, mount));
    mount.openFiles++;
    node.opened?.();
    return fd;
  }

  /** Releases a descriptor. The descriptor is gone even when writing back pending data fails. */
  async close(fd: number): Promise<void> {
    const f = this.#fds.remove(fd);
    if (f === undefined) throw badFd(fd, 'close');
    f.mount.openFiles--;
    await f.node.closed?.();
  }

  /** Reads up to `buf.length` bytes at the file position and advances it; 0 at the end. */
  async read(fd: number, buf: Uint8Array): Promise<number> {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & (FD_READ | FD_DIRECTORY)) !== FD_READ) throw this.#readFault(fd);
    const n = await f.node.read(buf, f.pos);
    f.pos += n;
    return n;
  }

  /** Reads at `position`; the file position stays. */
  async pread(fd: number, buf: Uint8Array, position: number): Promise<number> {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & (FD_READ | FD_DIRECTORY)) !== FD_READ) throw this.#readFault(fd);
    checkPosition(position);
    return f.node.read(buf, position);
  }

  /** Writes all of `data` at the file position (at the end with O_APPEND) and advances it. */
  async write(fd: number, data: Uint8Array): Promise<number> {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & FD_WRITE) === 0) throw badFd(fd, 'write to');
    if ((f.bits & FD_APPEND) !== 0) {
      // The driver finds the end under its own lock: appends from two descriptors never overlap.
      const n = await f.node.write(data, APPEND);
      f.pos = f.node.size;
      return n;
    }
    const n = await f.node.write(data, f.pos);
    f.pos += n;
    return n;
  }

  /** Writes at `position`; the file position stays. */
  async pwrite(fd: number, data: Uint8Array, position: number): Promise<number> {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & FD_WRITE) === 0) throw badFd(fd, 'write to');
    checkPosition(position);
    return f.node.write(data, position);
  }

  /** read() without a promise, for files of drivers that never wait; EAGAIN on others. */
  readSync(fd: number, buf: Uint8Array): number {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & (READABLE_SYNC | FD_DIRECTORY)) !== READABLE_SYNC) throw this.#syncFault(fd, FD_READ);
    const n = (f.node.readSync as (b: Uint8Array, p: number) => number)(buf, f.pos);
    f.pos += n;
    return n;
  }

  preadSync(fd: number, buf: Uint8Array, position: number): number {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & (READABLE_SYNC | FD_DIRECTORY)) !== READABLE_SYNC) throw this.#syncFault(fd, FD_READ);
    if (position >>> 0 !== position) checkPosition(position);
    return (f.node.readSync as (b: Uint8Array, p: number) => number)(buf, position);
  }

  writeSync(fd: number, data: Uint8Array): number {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & WRITABLE_SYNC) !== WRITABLE_SYNC) throw this.#syncFault(fd, FD_WRITE);
    const append = (f.bits & FD_APPEND) !== 0;
    const n = (f.node.writeSync as (d: Uint8Array, p: number) => number)(data, append ? APPEND : f.pos);
    f.pos = append ? f.node.size : f.pos + n;
    return n;
  }

  pwriteSync(fd: number, data: Uint8Array, position: number): number {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & WRITABLE_SYNC) !== WRITABLE_SYNC) throw this.#syncFault(fd, FD_WRITE);
    if (position >>> 0 !== position) checkPosition(position);
    return (f.node.writeSync as (d: Uint8Array, p: number) => number)(data, position);
  }

  /** Moves the file position; returns the new one. EINVAL for a position before the start. */
  lseek(fd: number, offset: number, whence: number = SEEK_SET): number {
    const f = this.#file(fd, 'seek in');
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? f.pos : whence === SEEK_END ? f.node.size : Number.NaN;
    if (Number.isNaN(base)) throw new KernelError('EINVAL', `lseek whence ${whence}: use SEEK_SET, SEEK_CUR or SEEK_END`);
    const pos = base + offset;
    if (!Number.isSafeInteger(pos) || pos < 0) throw new KernelError('EINVAL', `lseek to ${pos}: a file position is a whole number from 0`);
    f.pos = pos;
    return pos;
  }

  async fstat(fd: number): Promise<Stat> {
    return this.fstatSync(fd);
  }

  fstatSync(fd: number): Stat {
    const f = this.#file(fd, 'stat');
    return this.#stat(f.node);
  }

  async ftruncate(fd: number, size: number): Promise<void> {
    const f = this.#file(fd, 'truncate');
    if ((f.bits & FD_WRITE) === 0) throw badFd(fd, 'truncate (not open for writing)');
    checkSize(size);
    await f.node.truncate(size);
  }

  /** Makes the file's data and what is needed to find it durable. */
  async fsync(fd: number): Promise<void> {
    await this.#file(fd, 'fsync').node.fsync();
  }

  /** Makes every change on every mounted file system durable. */
  async sync(): Promise<void> {
    for (const m of this.#mounts.list()) await m.fs.sync();
  }

  // ── Paths ─────────────────────────────────────────────────────────────────────────────

  async stat(path: string): Promise<Stat> {
    return this.#stat(await this.#existing(path, true));
  }

  async lstat(path: string): Promise<Stat> {
    return this.#stat(await this.#existing(path, false));
  }

  /** Whether `path` names something (following symlinks). */
  async exists(path: string): Promise<boolean> {
    try {
      await this.#existing(path, true);
      return true;
    } catch (e) {
      if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return false;
      throw e;
    }
  }

  /** The names in a directory ('.' and '..' left out). */
  async readdir(path: string): Promise<DirEntry[]> {
    const node = await this.#existing(path, true);
    if (node.type !== 'directory') throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
    return node.readdir();
  }

  /** Makes a directory; with `recursive`, its missing parents too, and an existing one is fine. */
  async mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    if (options.recursive) {
      const names = splitPath(path);
      let at = path.charCodeAt(0) === 47 ? '' : '.';
      for (const n of names) {
        at = `${at}/${n}`;
        const w = await walk(this, at, true);
        if (w.node === undefined) await this.#mkdirAt(w, at);
        else if (w.node.type !== 'directory') throw new KernelError('ENOTDIR', `${at}: it exists and is not a directory`);
      }
      return;
    }
    const w = await walk(this, path, false);
    if (w.node !== undefined) throw new KernelError('EEXIST', `${path}: it exists already`);
    await this.#mkdirAt(w, path);
  }

  async rmdir(path: string): Promise<void> {
    const w = await walk(this, path, false);
    const node = w.node;
    if (node === undefined) throw new KernelError('ENOENT', `${path}: no such directory`);
    if (w.name === '.') throw new KernelError('EINVAL', `${path}: rmdir of "." is not allowed`);
    if (w.name === '..') throw new KernelError('ENOTEMPTY', `${path}: ".." is not empty`);
    if (node.type !== 'directory') throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
    if (w.name === '' || this.#mounts.isMountRoot(node)) throw new KernelError('EBUSY', `${path}: it is a mount point`);
    this.#writable(w.parent, path);
    await w.parent.remove(w.name, node);
  }

  /** Removes a name that is not a directory (POSIX unlink); open descriptors keep the data. */
  async unlink(path: string): Promise<void> {
    const w = await walk(this, path, false);
    const node = w.node;
    if (node === undefined) throw new KernelError('ENOENT', `${path}: no such file`);
    if (node.type === 'directory') throw new KernelError('EISDIR', `${path}: it is a directory; use rmdir`);
    if (w.trailingSlash) throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
    this.#writable(w.parent, path);
    await w.parent.remove(w.name, node);
  }

  /**
   * Renames `from` to `to`, replacing what `to` names (a file, or an empty directory when
   * `from` is a directory). Within one file system it is atomic: no one sees neither name or
   * both; across file systems it fails with EXDEV.
   */
  async rename(from: string, to: string): Promise<void> {
    const a = await walk(this, from, false);
    const b = await walk(this, to, false);
    const node = a.node;
    if (node === undefined) throw new KernelError('ENOENT', `${from}: no such file or directory`);
    if (isDotName(a.name) || isDotName(b.name)) throw new KernelError(a.name === '' || b.name === '' ? 'EBUSY' : 'EINVAL', `rename ${from} to ${to}: cannot rename "/", "." or ".."`);
    if (this.#mounts.isMountRoot(node) || (b.node !== undefined && this.#mounts.isMountRoot(b.node))) {
      throw new KernelError('EBUSY', `rename ${from} to ${to}: a mount point cannot be renamed or replaced`);
    }
    if (a.parent.fs !== b.parent.fs) throw new KernelError('EXDEV', `rename ${from} to ${to}: they are on different file systems; copy, then unlink`);
    if (node.type !== 'directory' && (a.trailingSlash || b.trailingSlash)) throw new KernelError('ENOTDIR', `rename ${from} to ${to}: ${from} is not a directory`);
    const replaced = b.node;
    if (replaced === node) {
      // The same object under two names: nothing to do, unless a case-insensitive file
      // system is asked to change a name's case.
      if (a.parent !== b.parent || a.name === b.name) return;
    } else if (replaced !== undefined) {
      if (node.type === 'directory' && replaced.type !== 'directory') throw new KernelError('ENOTDIR', `rename ${from} to ${to}: ${to} is not a directory`);
      if (node.type !== 'directory' && replaced.type === 'directory') throw new KernelError('EISDIR', `rename ${from} to ${to}: ${to} is a directory`);
    }
    if (node.type === 'directory' && (b.parent === node || b.chain.includes(node))) {
      throw new KernelError('EINVAL', `rename ${from} to ${to}: a directory cannot move into itself`);
    }
    this.#writable(a.parent, from);
    this.#checkName(b, to);
    await a.parent.rename(a.name, node, b.parent, b.name, replaced === node ? undefined : replaced);
  }

  async truncate(path: string, size: number): Promise<void> {
    const node = await this.#existing(path, true);
    if (node.type === 'directory') throw new KernelError('EISDIR', `${path}: it is a directory`);
    checkSize(size);
    this.#writable(node, path);
    await node.truncate(size);
  }

  async symlink(target: string, path: string): Promise<void> {
    const w = await walk(this, path, false);
    if (w.node !== undefined) throw new KernelError('EEXIST', `${path}: it exists already`);
    if (target.length === 0) throw new KernelError('ENOENT', `symlink ${path}: the target is empty`);
    this.#checkName(w, path);
    this.#writable(w.parent, path);
    await w.parent.create(w.name, 'symlink', target);
  }

  async readlink(path: string): Promise<string> {
    const node = await this.#existing(path, false);
    if (node.type !== 'symlink') throw new KernelError('EINVAL', `${path}: it is not a symbolic link`);
    return node.readlink();
  }

  /** Sets access and modification times (ms since the epoch). */
  async utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    const node = await this.#existing(path, true);
    this.#writable(node, path);
    if (node.setTimes === undefined) throw new KernelError('ENOTSUP', `${path}: this ${node.fs.type} file system keeps no times it could set`);
    await node.setTimes(atimeMs, mtimeMs);
  }

  /** Changes the working directory that relative paths start from. */
  async chdir(path: string): Promise<void> {
    const w = await walk(this, path, true);
    const node = w.node;
    if (node === undefined) throw new KernelError('ENOENT', `${path}: no such directory`);
    if (node.type !== 'directory') throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
    const chain = w.chain.slice();
    if (chain[chain.length - 1] !== node) chain.push(node);
    this.#cwd = chain;
    this.#cwdPath = normalizePath(path.charCodeAt(0) === 47 ? path : `${this.#cwdPath}/${path}`);
  }

  /** The working directory, as the path last given to chdir (folded lexically). */
  getcwd(): string {
    return this.#cwdPath;
  }

  // ── Whole files ───────────────────────────────────────────────────────────────────────

  async readFile(path: string): Promise<Uint8Array> {
    const fd = await this.open(path, O_RDONLY);
    try {
      const size = (this.#slots[fd] as OpenFile).node.size;
      const out = new Uint8Array(size);
      let done = 0;
      while (done < size) {
        const n = await this.read(fd, out.subarray(done));
        if (n === 0) break;
        done += n;
      }
      return done === size ? out : out.slice(0, done);
    } finally {
      await this.close(fd);
    }
  }

  /** Replaces (or makes) a file with `data`. */
  async writeFile(path: string, data: Uint8Array, flags: OpenFlags = 'w'): Promise<void> {
    const fd = await this.open(path, flags);
    try {
      await this.write(fd, data);
    } finally {
      await this.close(fd);
    }
  }

  /** Open descriptors, for introspection. */
  get openFiles(): number {
    return this.#fds.count;
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────

  async #existing(path: string, follow: boolean): Promise<Vnode> {
    const w = await walk(this, path, follow);
    if (w.node === undefined) throw new KernelError('ENOENT', `${path}: no such file or directory`);
    if (w.trailingSlash && w.node.type !== 'directory') throw new KernelError('ENOTDIR', `${path}: it is not a directory`);
    return w.node;
  }

  async #mkdirAt(w: Walk, path: string): Promise<void> {
    this.#checkName(w, path);
    this.#writable(w.parent, path);
    await w.parent.create(w.name, 'directory');
  }

  #checkName(w: Walk, path: string): void {
    if (isDotName(w.name)) throw new KernelError('EEXIST', `${path}: it exists already`);
  }

  #writable(node: Vnode, path: string): void {
    if (node.fs.readOnly) throw new KernelError('EROFS', `${path}: the ${node.fs.type} file system is mounted read-only`);
  }

  #stat(node: Vnode): Stat {
    const st = node.stat();
    st.dev = this.#mounts.of(node).dev;
    return st;
  }

  #file(fd: number, op: string): OpenFile {
    const f = this.#slots[fd];
    if (f === undefined) throw badFd(fd, op);
    return f;
  }

  #readFault(fd: number): KernelError {
    const f = this.#slots[fd];
    if (f !== undefined && (f.bits & FD_DIRECTORY) !== 0) return new KernelError('EISDIR', `read of descriptor ${fd}: it is a directory; use readdir`);
    return badFd(fd, 'read from');
  }

  #syncFault(fd: number, want: number): KernelError {
    const f = this.#slots[fd];
    if (f === undefined || (f.bits & want) === 0) return badFd(fd, want === FD_READ ? 'read from' : 'write to');
    if ((f.bits & FD_DIRECTORY) !== 0) return new KernelError('EISDIR', `descriptor ${fd} is a directory`);
    return new KernelError('EAGAIN', `descriptor ${fd} is on ${f.node.fs.type}, whose files may wait for a device; use the async read/write`);
  }
}

function isDotName(name: string): boolean {
  return name === '' || name === '.' || name === '..';
}

function badFd(fd: number, op: string): KernelError {
  return new KernelError('EBADF', `cannot ${op} descriptor ${fd}: it is not open${op.startsWith('write') || op.startsWith('read') ? ' for that' : ''}`);
}

function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new KernelError('EINVAL', `position ${position}: a file position is a whole number from 0`);
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new KernelError('EINVAL', `size ${size}: a file size is a whole number from 0`);
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as KernelError).code === code;
}

export type { Mount };
