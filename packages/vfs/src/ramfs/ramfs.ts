import { KernelError } from '@uk/hal';
import type { FsStats } from '../node/stat.js';
import type { FileSystem } from '../node/vnode.js';
import { RamDir } from './ram-node.js';

export interface RamFsOptions {
  /** Bytes the files may hold together before ENOSPC (default: unlimited). */
  maxBytes?: number;
  /** Milliseconds since the epoch, for timestamps (default Date.now). */
  clock?: () => number;
  readOnly?: boolean;
}

/**
 * A file system in memory: the default root. Nothing waits, so its files take the VFS's
 * synchronous fast path. Files grow by doubling; data is one Uint8Array per file.
 */
export class RamFs implements FileSystem {
  readonly type = 'ramfs';
  readonly maxNameLength = 255;
  readonly readOnly: boolean;
  readonly root: RamDir;
  readonly maxBytes: number;
  readonly clock: () => number;
  /** Bytes of file data held now. */
  usedBytes = 0;
  #nextIno = 1;
  #wordBuf: Uint8Array | undefined;
  #words: Int32Array = new Int32Array(0);

  constructor(options: RamFsOptions = {}) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.clock = options.clock ?? Date.now;
    this.readOnly = options.readOnly ?? false;
    this.root = new RamDir(this, this.nextIno());
  }

  /**
   * `buf` (4-byte aligned) as 32-bit words. The view of the last buffer is kept, so a
   * caller that reads into the same buffer again allocates nothing.
   */
  wordsOf(buf: Uint8Array): Int32Array {
    if (buf !== this.#wordBuf) {
      this.#wordBuf = buf;
      this.#words = new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
    }
    return this.#words;
  }

  nextIno(): number {
    return this.#nextIno++;
  }

  /** Accounts for `delta` more bytes of file data; ENOSPC (with nothing changed) past the limit. */
  reserve(delta: number): void {
    if (delta > 0 && this.usedBytes + delta > this.maxBytes) {
      throw new KernelError('ENOSPC', `ramfs is full: ${this.usedBytes} of ${this.maxBytes} bytes used, ${delta} more asked for`);
    }
    this.usedBytes += delta;
  }

  async statfs(): Promise<FsStats> {
    const bs = 4096;
    const total = Number.isFinite(this.maxBytes) ? Math.floor(this.maxBytes / bs) : 0;
    return {
      type: this.type,
      blockSize: bs,
      blocks: total,
      freeBlocks: Number.isFinite(this.maxBytes) ? Math.floor((this.maxBytes - this.usedBytes) / bs) : 0,
      maxNameLength: this.maxNameLength,
      readOnly: this.readOnly,
    };
  }

  async sync(): Promise<void> {}

  async unmount(): Promise<void> {}
}
