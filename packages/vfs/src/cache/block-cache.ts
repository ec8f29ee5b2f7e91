import type { BlockDevice } from '@uk/blkdev';
import { KernelError } from '@uk/hal';
import { plainWait, type Waiter } from './waiter.js';

export interface BlockCacheOptions {
  /** Bytes of blocks kept (default 4 MiB); past it, the least recently used clean ones go. */
  capacityBytes?: number;
  /** How to wait for the device (the scheduler's waitFor; see kernelWait). */
  wait?: Waiter;
  /** The largest single request when writing back (default 128 KiB). */
  maxRequestBytes?: number;
}

/** Dirty classes: data is written back before metadata (see writeBack). */
const CLEAN = 0;
const DATA = 1;
const META = 2;

interface Entry {
  data: Uint8Array;
  /** CLEAN, DATA or META. */
  dirty: number;
  /** Used since the evictor last passed (second chance). */
  ref: number;
  /** Bumped at every markDirty, so a write-back that raced with a change keeps it dirty. */
  gen: number;
}

export interface BlockCacheStats {
  hits: number;
  misses: number;
  /** Requests sent to the device. */
  reads: number;
  writes: number;
  flushes: number;
  /** Blocks held now. */
  blocks: number;
  dirty: number;
}

/**
 * A write-back cache of a block device's blocks, shared by block file systems (vfat, ...).
 *
 * - `get` returns the cached block itself: read it or change it, then `markDirty`, before
 *   the next await (an eviction may drop it at any await). Callers serialise (FsLock).
 * - Changes stay in memory until `writeBack` (or eviction) and are durable after `flush`.
 *   Write-back sends file data first and metadata after, each in block order, coalesced into
 *   runs: after a crash, metadata never points at data that did not reach the disk.
 * - `readDirect`/`writeDirect` move bulk file data between the device and the caller's
 *   buffer without copying through the cache, and stay coherent with cached blocks.
 */
export class BlockCache {
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats: BlockCacheStats = { hits: 0, misses: 0, reads: 0, writes: 0, flushes: 0, blocks: 0, dirty: 0 };
  readonly #map = new Map<number, Entry>();
  readonly #dirty = new Set<number>();
  readonly #capacity: number;
  readonly #maxRun: number;
  readonly #wait: Waiter;

  constructor(
    readonly dev: BlockDevice,
    options: BlockCacheOptions = {},
  ) {
    this.blockSize = dev.blockSize;
    this.blockCount = dev.blockCount;
    this.#capacity = Math.max(16, Math.floor((options.capacityBytes ?? 4 * 1024 * 1024) / dev.blockSize));
    this.#maxRun = Math.max(1, Math.floor((options.maxRequestBytes ?? 128 * 1024) / dev.blockSize));
    this.#wait = options.wait ?? plainWait;
  }

  /** Blocks with changes not yet written. */
  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /** The cached block, or undefined without touching the device. */
  peek(block: number): Uint8Array | undefined {
    const e = this.#map.get(block);
    if (e === undefined) return undefined;
    e.ref = 1;
    this.stats.hits++;
    return e.data;
  }

  /** The block, read from the device on a miss. */
  async get(block: number): Promise<Uint8Array> {
    const e = this.#map.get(block);
    if (e !== undefined) {
      e.ref = 1;
      this.stats.hits++;
      return e.data;
    }
    await this.prefetch(block, 1);
    const got = this.#map.get(block);
    if (got === undefined) throw new KernelError('EIO', `block ${block} vanished from the cache while it was read`);
    return got.data;
  }

  /** Reads the blocks of [block, block + count) that are not cached, one request per run. */
  async prefetch(block: number, count: number): Promise<void> {
    this.#checkRange(block, count);
    let i = 0;
    while (i < count) {
      if (this.#map.has(block + i)) {
        i++;
        continue;
      }
      let n = 1;
      while (i + n < count && n < this.#maxRun && !this.#map.has(block + i + n)) n++;
      await this.#makeRoom(n);
      const buf = new Uint8Array(n * this.blockSize);
      this.stats.misses += n;
      this.stats.reads++;
      await this.#wait(this.dev.read(block + i, buf));
      const bs = this.blockSize;
      for (let k = 0; k < n; k++) {
        // Someone may have cached (and changed) it while we waited: theirs wins.
        if (!this.#map.has(block + i + k)) this.#map.set(block + i + k, { data: buf.subarray(k * bs, (k + 1) * bs), dirty: CLEAN, ref: 0, gen: 0 });
      }
      i += n;
    }
    this.stats.blocks = this.#map.size;
  }

  /**
   * A cached block of zeroes that replaces the block's contents without reading them (a
   * block about to be overwritten whole, or a newly allocated one); marked dirty.
   */
  zero(block: number, meta = false): Uint8Array {
    this.#checkRange(block, 1);
    let e = this.#map.get(block);
    if (e === undefined) {
      e = { data: new Uint8Array(this.blockSize), dirty: CLEAN, ref: 1, gen: 0 };
      this.#map.set(block, e);
      this.stats.blocks = this.#map.size;
    } else {
      e.data.fill(0);
    }
    this.markDirty(block, meta);
    return e.data;
  }

  /** Records a change to a cached block; `meta` for file-system structures (FAT, directories). */
  markDirty(block: number, meta = false): void {
    const e = this.#map.get(block);
    if (e === undefined) throw new KernelError('EIO', `block ${block} was marked dirty but is not in the cache (held across an await?)`);
    const cls = meta ? META : DATA;
    if (e.dirty < cls) e.dirty = cls;
    e.gen++;
    e.ref = 1;
    this.#dirty.add(block);
    this.stats.dirty = this.#dirty.size;
  }

  /** Forgets blocks (of freed space): cached changes to them are dropped, not written. */
  discard(block: number, count: number): void {
    if (count > this.#map.size) {
      for (const b of [...this.#map.keys()]) if (b >= block && b < block + count) this.#drop(b);
    } else {
      for (let b = block; b < block + count; b++) this.#drop(b);
    }
    this.stats.blocks = this.#map.size;
  }

  /** Reads whole blocks straight into `dst`, then lays cached changes over them. */
  async readDirect(block: number, dst: Uint8Array): Promise<void> {
    const count = dst.length / this.blockSize;
    this.#checkRange(block, count);
    this.stats.reads++;
    await this.#wait(this.dev.read(block, dst));
    if (this.#dirty.size === 0) return;
    const bs = this.blockSize;
    if (count > this.#dirty.size) {
      for (const b of this.#dirty) if (b >= block && b < block + count) dst.set((this.#map.get(b) as Entry).data, (b - block) * bs);
    } else {
      for (let k = 0; k < count; k++) if (this.#dirty.has(block + k)) dst.set((this.#map.get(block + k) as Entry).data, k * bs);
    }
  }

  /** Writes whole blocks straight from `src`; cached copies take the new contents and are clean. */
  async writeDirect(block: number, src: Uint8Array): Promise<void> {
    const count = src.length / this.blockSize;
    this.#checkRange(block, count);
    const bs = this.blockSize;
    const refresh = (b: number): void => {
      const e = this.#map.get(b);
      if (e === undefined) return;
      e.data.set(src.subarray((b - block) * bs, (b - block + 1) * bs));
      e.dirty = CLEAN;
      e.gen++;
      this.#dirty.delete(b);
    };
    if (count > this.#map.size) {
      for (const b of [...this.#map.keys()]) if (b >= block && b < block + count) refresh(b);
    } else {
      for (let k = 0; k < count; k++) refresh(block + k);
    }
    this.stats.dirty = this.#dirty.size;
    this.stats.writes++;
    await this.#wait(this.dev.write(block, src));
  }

  /**
   * Writes every dirty block: file data first, then metadata, each in block order and in
   * runs of adjacent blocks, several requests in flight. Not durable until `flush`.
   */
  async writeBack(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const data: number[] = [];
    const meta: number[] = [];
    for (const b of this.#dirty) ((this.#map.get(b) as Entry).dirty === META ? meta : data).push(b);
    await this.#writeBlocks(data.sort((x, y) => x - y));
    await this.#writeBlocks(meta.sort((x, y) => x - y));
  }

  /** Writes back and then makes it durable (the device's FLUSH). */
  async flush(): Promise<void> {
    await this.writeBack();
    this.stats.flushes++;
    await this.#wait(this.dev.flush());
  }

  /** Drops every clean block (for tests, and to re-read a device changed behind our back). */
  dropClean(): void {
    for (const [b, e] of this.#map) if (e.dirty === CLEAN) this.#map.delete(b);
    this.stats.blocks = this.#map.size;
  }

  async #writeBlocks(blocks: number[]): Promise<void> {
    const bs = this.blockSize;
    const inFlight: Array<Promise<void>> = [];
    const depth = Math.max(1, Math.min(this.dev.queueDepth, 8));
    let i = 0;
    while (i < blocks.length) {
      let n = 1;
      while (i + n < blocks.length && n < this.#maxRun && blocks[i + n] === blocks[i] + n) n++;
      const first = blocks[i];
      const buf = new Uint8Array(n * bs);
      const gens: number[] = [];
      for (let k = 0; k < n; k++) {
        const e = this.#map.get(first + k) as Entry;
        buf.set(e.data, k * bs);
        gens.push(e.gen);
      }
      this.stats.writes++;
      inFlight.push(
        this.dev.write(first, buf).then(() => {
          for (let k = 0; k < n; k++) {
            const e = this.#map.get(first + k);
            if (e !== undefined && e.gen === gens[k]) {
              e.dirty = CLEAN;
              this.#dirty.delete(first + k);
            }
          }
        }),
      );
      if (inFlight.length >= depth) await this.#wait(Promise.all(inFlight.splice(0)));
      i += n;
    }
    if (inFlight.length > 0) await this.#wait(Promise.all(inFlight));
    this.stats.dirty = this.#dirty.size;
  }

  /** Evicts clean blocks (second chance) until `extra` more fit; writes back when only dirty ones are left. */
  async #makeRoom(extra: number): Promise<void> {
    if (this.#map.size + extra <= this.#capacity) return;
    if (this.#dirty.size * 2 > this.#capacity) await this.writeBack();
    let need = this.#map.size + extra - this.#capacity;
    for (let pass = 0; pass < 2 && need > 0; pass++) {
      for (const [b, e] of this.#map) {
        if (need <= 0) break;
        if (e.dirty !== CLEAN) continue;
        if (e.ref !== 0 && pass === 0) {
          e.ref = 0;
          continue;
        }
        this.#map.delete(b);
        need--;
      }
    }
    if (need > 0 && this.#dirty.size > 0) {
      await this.writeBack();
      for (const [b, e] of this.#map) {
        if (need <= 0) break;
        if (e.dirty === CLEAN) {
          this.#map.delete(b);
          need--;
        }
      }
    }
    this.stats.blocks = this.#map.size;
  }

  #drop(b: number): void {
    if (this.#map.delete(b)) this.#dirty.delete(b);
    this.stats.dirty = this.#dirty.size;
  }

  #checkRange(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || block < 0 || !Number.isSafeInteger(count) || count < 0 || block + count > this.blockCount) {
      throw new KernelError('EIO', `blocks ${block}..${block + count - 1} lie outside the device (${this.blockCount} blocks): the file system points past its end`);
    }
  }
}
