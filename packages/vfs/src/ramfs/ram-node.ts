import { KernelError } from '@uk/hal';
import { type DirEntry, type NodeType, type Stat, typeBits } from '../node/stat.js';
import { type Vnode, VnodeBase } from '../node/vnode.js';
import type { RamFs } from './ramfs.js';

const EMPTY = new Uint8Array(0);
/** Copy byte by byte below this: cheaper than making a subarray for `set`. */
const SMALL_COPY = 16;
/** Aligned reads up to this many bytes copy words. */
const WORD_COPY = 512;
const NO_WORDS = new Int32Array(0);

abstract class RamNode extends VnodeBase {
  abstract override readonly type: NodeType;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  readonly birthtimeMs: number;
  nlink = 1;

  constructor(
    readonly fs: RamFs,
    readonly ino: number,
  ) {
    super();
    const now = fs.clock();
    this.atimeMs = now;
    this.mtimeMs = now;
    this.ctimeMs = now;
    this.birthtimeMs = now;
  }

  abstract readonly size: number;

  stat(): Stat {
    const size = this.size;
    return {
      dev: 0,
      ino: this.ino,
      type: this.type,
      mode: typeBits(this.type) | (this.type === 'file' ? 0o644 : 0o755),
      nlink: this.nlink,
      size,
      blocks: Math.ceil(size / 512),
      blksize: 4096,
      atimeMs: this.atimeMs,
      mtimeMs: this.mtimeMs,
      ctimeMs: this.ctimeMs,
      birthtimeMs: this.birthtimeMs,
    };
  }

  async setTimes(atimeMs: number, mtimeMs: number): Promise<void> {
    this.atimeMs = atimeMs;
    this.mtimeMs = mtimeMs;
    this.ctimeMs = this.fs.clock();
  }
}

/** A file: its bytes in one array that grows by doubling. */
export class RamFile extends RamNode implements Vnode {
  readonly type = 'file';
  size = 0;
  data: Uint8Array = EMPTY;
  /** `data` as 32-bit words (its length is always a multiple of 4). */
  words: Int32Array = NO_WORDS;
  #opens = 0;

  opened(): void {
    this.#opens++;
  }

  async closed(): Promise<void> {
    this.#opens--;
    this.release();
  }

  /** Frees the data of a file that no name and no descriptor reaches any more. */
  release(): void {
    if (this.nlink > 0 || this.#opens > 0) return;
    this.fs.reserve(-this.size);
    this.size = 0;
    this.data = EMPTY;
    this.words = NO_WORDS;
  }

  readSync(buf: Uint8Array, pos: number): number {
    const size = this.size;
    if (pos >= size) return 0;
    let n = buf.length;
    if (n > size - pos) n = size - pos;
    if (n <= WORD_COPY && ((pos | n | buf.byteOffset) & 3) === 0) {
      // Small aligned reads copy 32-bit words: several times faster than bytes or set(subarray).
      const dst = this.fs.wordsOf(buf);
      const src = this.words;
      const k = n >>> 2;
      let w = pos >>> 2;
      let i = 0;
      for (; i + 4 <= k; i += 4, w += 4) {
        dst[i] = src[w];
        dst[i + 1] = src[w + 1];
        dst[i + 2] = src[w + 2];
        dst[i + 3] = src[w + 3];
      }
      for (; i < k; i++, w++) dst[i] = src[w];
    } else if (n <= SMALL_COPY) {
      const d = this.data;
      for (let i = 0; i < n; i++) buf[i] = d[pos + i];
    } else {
      buf.set(this.data.subarray(pos, pos + n));
    }
    return n;
  }

  writeSync(data: Uint8Array, at: number): number {
    const pos = at < 0 ? this.size : at;
    const n = data.length;
    // Writing nothing changes nothing (POSIX), not even a size below `pos`.
    if (n === 0) return 0;
    const end = pos + n;
    if (end > this.size) this.#grow(end);
    const d = this.data;
    if (n <= SMALL_COPY) {
      for (let i = 0; i < n; i++) d[pos + i] = data[i];
    } else {
      d.set(data, pos);
    }
    this.mtimeMs = this.ctimeMs = this.fs.clock();
    return n;
  }

  override read(buf: Uint8Array, pos: number): Promise<number> {
    return Promise.resolve(this.readSync(buf, pos));
  }

  override async write(data: Uint8Array, pos: number): Promise<number> {
    return this.writeSync(data, pos);
  }

  override async truncate(size: number): Promise<void> {
    if (size > this.size) {
      this.#grow(size);
    } else if (size < this.size) {
      this.fs.reserve(size - this.size);
      // Bytes past the end stay zero, so growing again reads zeroes.
      this.data.fill(0, size, this.size);
      this.size = size;
      if (size <= this.data.length >>> 2) this.#setData(this.data.slice(0, (size + 3) & ~3));
    }
    this.mtimeMs = this.ctimeMs = this.fs.clock();
  }

  #grow(end: number): void {
    if (this.fs.readOnly) throw new KernelError('EROFS', 'ramfs is read-only');
    this.fs.reserve(end - this.size);
    if (end > this.data.length) {
      const cap = (Math.max(end, Math.min(this.data.length * 2, end + 64 * 1024 * 1024), 64) + 3) & ~3;
      const next = new Uint8Array(cap);
      next.set(this.data.subarray(0, this.size));
      this.#setData(next);
    }
    this.size = end;
  }

  #setData(data: Uint8Array): void {
    this.data = data;
    this.words = new Int32Array(data.buffer, data.byteOffset, data.length >>> 2);
  }
}

/** A symbolic link: the target text. */
export class RamSymlink extends RamNode implements Vnode {
  readonly type = 'symlink';
  constructor(
    fs: RamFs,
    ino: number,
    readonly target: string,
  ) {
    super(fs, ino);
  }
  get size(): number {
    return this.target.length;
  }
  override async readlink(): Promise<string> {
    return this.target;
  }
}

type Child = RamFile | RamDir | RamSymlink;

/** A directory: a map of names in creation order. */
export class RamDir extends RamNode implements Vnode {
  readonly type = 'directory';
  /** @internal The entries by name, in creation order; reach them through the VFS. */
  readonly children = new Map<string, Child>();

  constructor(fs: RamFs, ino: number) {
    super(fs, ino);
    this.nlink = 2;
  }

  get size(): number {
    return this.children.size;
  }

  override lookup(name: string): Promise<Vnode | undefined> {
    return Promise.resolve(this.children.get(name));
  }

  override async create(name: string, type: NodeType, target?: string): Promise<Vnode> {
    if (this.children.has(name)) throw new KernelError('EEXIST', `"${name}" exists already`);
    const ino = this.fs.nextIno();
    const node = type === 'file' ? new RamFile(this.fs, ino) : type === 'directory' ? new RamDir(this.fs, ino) : new RamSymlink(this.fs, ino, target ?? '');
    this.children.set(name, node);
    if (type === 'directory') this.nlink++;
    this.#touch();
    return node;
  }

  override async remove(name: string, node: Vnode): Promise<void> {
    const child = this.children.get(name);
    if (child === undefined || child !== node) throw new KernelError('ENOENT', `"${name}" is gone`);
    if (child instanceof RamDir) {
      if (child.children.size > 0) throw new KernelError('ENOTEMPTY', `directory "${name}" is not empty`);
      this.nlink--;
    }
    this.children.delete(name);
    child.nlink = 0;
    if (child instanceof RamFile) child.release();
    this.#touch();
  }

  override async rename(name: string, node: Vnode, to: Vnode, toName: string, replaced: Vnode | undefined): Promise<void> {
    const dest = to as RamDir;
    const child = this.children.get(name);
    if (child === undefined || child !== node) throw new KernelError('ENOENT', `"${name}" is gone`);
    const existing = dest.children.get(toName);
    if (existing !== replaced) throw new KernelError('EAGAIN', `"${toName}" changed during the rename; try again`);
    if (existing instanceof RamDir) {
      if (existing.children.size > 0) throw new KernelError('ENOTEMPTY', `directory "${toName}" is not empty`);
      dest.nlink--;
    }
    if (existing !== undefined) existing.nlink = 0;
    if (existing instanceof RamFile) existing.release();
    this.children.delete(name);
    dest.children.set(toName, child);
    if (child instanceof RamDir && dest !== this) {
      this.nlink--;
      dest.nlink++;
    }
    child.ctimeMs = this.fs.clock();
    this.#touch();
    if (dest !== this) dest.#touch();
  }

  override async readdir(): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    for (const [name, node] of this.children) out.push({ name, type: node.type, ino: node.ino });
    return out;
  }

  #touch(): void {
    this.mtimeMs = this.ctimeMs = this.fs.clock();
  }
}
