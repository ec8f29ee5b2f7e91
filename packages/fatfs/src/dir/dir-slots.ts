import { KernelError } from '@uk/hal';
import { DIR_ENTRY_SIZE } from '../layout/dir-entry.js';
import type { Extents } from '../table/extents.js';
import type { FatVolume } from '../volume/fat-volume.js';

/** A directory holds at most this many entries (2 MiB; Microsoft FAT specification, §6). */
export const MAX_DIR_SLOTS = 65536;

/**
 * Where a directory's 32-byte slots are: the fixed root region of FAT12/16, or the clusters
 * of its chain. Slots are read and written through the block cache.
 */
export class DirSlots {
  constructor(
    readonly vol: FatVolume,
    /** The chain, or undefined for the fixed root directory. */
    readonly chain: Extents | undefined,
  ) {}

  /** Slots the directory holds now. */
  get capacity(): number {
    const g = this.vol.geo;
    if (this.chain === undefined) return g.rootDirBytes / DIR_ENTRY_SIZE;
    return Math.min(MAX_DIR_SLOTS, (this.chain.count * g.clusterSize) / DIR_ENTRY_SIZE);
  }

  /** Byte offset of slot `i` on the volume. */
  offset(i: number): number {
    const g = this.vol.geo;
    const at = i * DIR_ENTRY_SIZE;
    if (this.chain === undefined) return g.rootDirOffset + at;
    const ci = Math.floor(at / g.clusterSize);
    return this.vol.clusterOffset(this.chain.cluster(ci)) + (at - ci * g.clusterSize);
  }

  /** Every slot's bytes, read in runs straight from the device (with cached changes over them). */
  async readAll(): Promise<Uint8Array> {
    const g = this.vol.geo;
    const out = new Uint8Array(this.capacity * DIR_ENTRY_SIZE);
    if (this.chain === undefined) {
      await this.vol.readBytes(g.rootDirOffset, out);
      return out;
    }
    let done = 0;
    const ch = this.chain;
    for (let k = 0; k < ch.starts.length && done < out.length; k++) {
      const bytes = Math.min(ch.lengths[k] * g.clusterSize, out.length - done);
      await this.vol.readBytes(this.vol.clusterOffset(ch.starts[k]), out.subarray(done, done + bytes));
      done += bytes;
    }
    return out;
  }

  /** The cached block holding slot `i`, and the slot's offset in it. Use before the next await. */
  async slot(i: number): Promise<[Uint8Array, number]> {
    const at = this.offset(i);
    const bs = this.vol.blockSize;
    const blk = Math.floor(at / bs);
    return [await this.vol.cache.get(blk), at - blk * bs];
  }

  /** Marks the block of slot `i` as changed metadata. */
  touched(i: number): void {
    this.vol.cache.markDirty(Math.floor(this.offset(i) / this.vol.blockSize), true);
  }

  /** Writes `bytes` (whole slots) from slot `first` on. */
  async write(first: number, bytes: Uint8Array): Promise<void> {
    for (let k = 0; k * DIR_ENTRY_SIZE < bytes.length; k++) {
      const [b, o] = await this.slot(first + k);
      b.set(bytes.subarray(k * DIR_ENTRY_SIZE, (k + 1) * DIR_ENTRY_SIZE), o);
      this.touched(first + k);
    }
  }

  /** Sets byte 0 of slots [first, first + count) (0xE5 deletes them). */
  async mark(first: number, count: number, value: number): Promise<void> {
    for (let k = 0; k < count; k++) {
      const [b, o] = await this.slot(first + k);
      b[o] = value;
      this.touched(first + k);
    }
  }

  /**
   * Adds a zeroed cluster to the chain. ENOSPC for the fixed root directory, for a
   * directory at its 65536-entry limit, or a full disk.
   */
  async grow(what: string): Promise<void> {
    const ch = this.chain;
    if (ch === undefined) {
      throw new KernelError('ENOSPC', `the root directory is full (${this.capacity} entries on FAT${this.vol.geo.type}); use a subdirectory`);
    }
    if (this.capacity >= MAX_DIR_SLOTS) throw new KernelError('ENOSPC', `${what} is full: a FAT directory holds at most ${MAX_DIR_SLOTS} entries`);
    const [c] = await this.vol.allocate(1, ch.last + 1);
    // Zeroes reach the disk before the FAT links the cluster: a crash never shows garbage entries.
    await this.vol.writeClusterDirect(c, undefined);
    await this.vol.table.link(ch.last, [c]);
    ch.push(c);
  }
}
