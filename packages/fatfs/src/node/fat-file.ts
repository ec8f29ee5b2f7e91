import { KernelError } from '@uk/hal';
import type { Vnode } from '@uk/vfs';
import { Attr } from '../layout/dir-entry.js';
import type { Extents } from '../table/extents.js';
import { FatNode } from './fat-node.js';

/** FAT keeps sizes in 32 bits. */
export const MAX_FILE_SIZE = 0xffffffff;
/** Bytes read ahead past a request, within the file's run of clusters. */
const READAHEAD = 64 * 1024;

/** A regular file of a FAT volume. */
export class FatFile extends FatNode implements Vnode {
  readonly type = 'file';
  #ext: Extents | undefined;
  #opens = 0;
  /** Its entry is gone; the clusters go at the last close. */
  #unlinked = false;

  get size(): number {
    return this.rec?.entry.size ?? 0;
  }

  protected allocatedBytes(): number {
    const cs = this.fs.geo.clusterSize;
    return (this.#ext?.count ?? Math.ceil(this.size / cs)) * cs;
  }

  /** @internal The cluster chain, walked once and checked against the size. */
  async extents(): Promise<Extents> {
    if (this.#ext !== undefined) return this.#ext;
    const e = this.rec?.entry;
    const name = `"${this.rec?.name}"`;
    const ext = await this.fs.table.chain(e?.firstCluster ?? 0, name);
    const need = Math.ceil(this.size / this.fs.geo.clusterSize);
    if (ext.count < need) {
      throw new KernelError('EIO', `${name} is ${this.size} bytes but its cluster chain holds only ${ext.count} clusters: the file system is damaged (run fsck.fat)`);
    }
    this.#ext = ext;
    return ext;
  }

  override read(buf: Uint8Array, pos: number): Promise<number> {
    return this.fs.lock.run(() => this.#read(buf, pos));
  }

  async #read(buf: Uint8Array, pos: number): Promise<number> {
    const size = this.size;
    if (pos >= size || buf.length === 0) return 0;
    const n = Math.min(buf.length, size - pos);
    const ext = await this.extents();
    const cs = this.fs.geo.clusterSize;
    let done = 0;
    while (done < n) {
      const off = pos + done;
      const ci = Math.floor(off / cs);
      const inCluster = off - ci * cs;
      const k = ext.run(ci);
      const runLeft = (ext.firsts[k] + ext.lengths[k] - ci) * cs - inCluster;
      const chunk = Math.min(n - done, runLeft);
      const at = this.fs.clusterOffset(ext.starts[k] + (ci - ext.firsts[k])) + inCluster;
      await this.fs.readBytes(at, chunk === buf.length ? buf : buf.subarray(done, done + chunk), Math.min(runLeft - chunk, READAHEAD));
      done += chunk;
    }
    return n;
  }

  override write(data: Uint8Array, pos: number): Promise<number> {
    return this.fs.lock.run(() => this.#write(data, pos));
  }

  async #write(data: Uint8Array, at: number): Promise<number> {
    await this.fs.beginChange();
    const pos = at < 0 ? this.size : at;
    if (data.length === 0) return 0;
    const end = pos + data.length;
    if (end > MAX_FILE_SIZE) throw new KernelError('EFBIG', `a FAT file holds at most ${MAX_FILE_SIZE} bytes; writing to ${end} is past that`);
    const fresh = await this.#reserve(end);
    const size = this.size;
    if (pos > size) await this.#writeRange(size, undefined, pos - size, fresh);
    await this.#writeRange(pos, data, data.length, fresh);
    await this.#setSize(Math.max(size, end));
    return data.length;
  }

  override truncate(size: number): Promise<void> {
    return this.fs.lock.run(async () => {
      await this.fs.beginChange();
      if (size > MAX_FILE_SIZE) throw new KernelError('EFBIG', `a FAT file holds at most ${MAX_FILE_SIZE} bytes`);
      const old = this.size;
      if (size > old) {
        const fresh = await this.#reserve(size);
        await this.#writeRange(old, undefined, size - old, fresh);
      } else if (size < old) {
        await this.#shrink(size);
      }
      await this.#setSize(size);
    });
  }

  /** A whole volume sync: FAT has no journal to order one file's blocks before the rest. */
  override fsync(): Promise<void> {
    return this.fs.sync();
  }

  opened(): void {
    this.#opens++;
  }

  async closed(): Promise<void> {
    this.#opens--;
    if (this.#opens === 0 && this.#unlinked) await this.fs.lock.run(() => this.freeClusters());
  }

  /** Its entry was removed (under the volume's lock): the clusters go now, or at the last close. */
  async unlinked(): Promise<void> {
    this.#unlinked = true;
    if (this.#opens === 0) await this.freeClusters();
  }

  /** Gives the chain back (under the volume's lock). */
  async freeClusters(): Promise<void> {
    const e = this.rec?.entry;
    if (e === undefined || e.firstCluster === 0) return;
    const ext = await this.extents().catch(() => undefined);
    e.firstCluster = 0;
    this.#ext = undefined;
    if (ext !== undefined) await this.fs.release([...ext.clusters()]);
  }

  /**
   * Makes sure the chain covers `bytes`; ENOSPC before anything changes when it cannot.
   * Returns the file offset where newly allocated clusters begin (Infinity for none).
   */
  async #reserve(bytes: number): Promise<number> {
    const cs = this.fs.geo.clusterSize;
    const need = Math.ceil(bytes / cs);
    const ext = await this.extents();
    if (need <= ext.count) return Number.POSITIVE_INFINITY;
    const fresh = ext.count * cs;
    const last = ext.last;
    const clusters = await this.fs.allocate(need - ext.count, last === 0 ? 0 : last + 1);
    await this.fs.table.link(last, clusters);
    const e = this.rec?.entry;
    if (last === 0 && e !== undefined) e.firstCluster = clusters[0];
    for (const c of clusters) ext.push(c);
    return fresh;
  }

  async #shrink(size: number): Promise<void> {
    const ext = await this.extents();
    const keep = Math.ceil(size / this.fs.geo.clusterSize);
    if (keep >= ext.count) return;
    const dropped: number[] = [];
    let i = 0;
    for (const c of ext.clusters()) if (i++ >= keep) dropped.push(c);
    if (keep === 0) {
      const e = this.rec?.entry;
      if (e !== undefined) e.firstCluster = 0;
    } else {
      await this.fs.table.set(ext.cluster(keep - 1), this.fs.table.eoc);
    }
    ext.truncate(keep);
    await this.fs.release(dropped);
  }

  /**
   * Writes `length` bytes of `src` (zeroes when undefined) at file offset `pos`, inside the
   * chain; clusters from file offset `fresh` on were just allocated.
   */
  async #writeRange(pos: number, src: Uint8Array | undefined, length: number, fresh: number): Promise<void> {
    const ext = await this.extents();
    const cs = this.fs.geo.clusterSize;
    let done = 0;
    while (done < length) {
      const off = pos + done;
      const ci = Math.floor(off / cs);
      const inCluster = off - ci * cs;
      const k = ext.run(ci);
      const runLeft = (ext.firsts[k] + ext.lengths[k] - ci) * cs - inCluster;
      const chunk = Math.min(length - done, runLeft);
      const at = this.fs.clusterOffset(ext.starts[k] + (ci - ext.firsts[k])) + inCluster;
      const part = src === undefined ? undefined : chunk === src.length ? src : src.subarray(done, done + chunk);
      // Volume offset from which this run's blocks are fresh (the run is contiguous on disk).
      const freshAt = fresh <= off ? at - inCluster : fresh < off + chunk ? at + (fresh - off) : Number.POSITIVE_INFINITY;
      await this.fs.writeBytes(at, part, false, chunk, freshAt);
      done += chunk;
    }
  }

  async #setSize(size: number): Promise<void> {
    const e = this.rec?.entry;
    if (e === undefined) return;
    e.size = size;
    e.attr |= Attr.Archive;
    this.touch();
    // The entry is written into the cached directory block now: nothing stays pending in
    // the node, so a node that nobody holds can go at any time.
    await this.saveEntry();
  }
}
