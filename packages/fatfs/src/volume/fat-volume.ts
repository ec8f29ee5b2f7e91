import type { BlockDevice } from '@uk/blkdev';
import { KernelError } from '@uk/hal';
import { BlockCache, FsLock, type FileSystem, type FsStats, plainWait, type Waiter } from '@uk/vfs';
import { type BootSector, parseBootSector, STATE_DIRTY, stateOffset } from '../layout/boot-sector.js';
import { parseFsInfo, writeFsInfoHints } from '../layout/fsinfo.js';
import { clusterOffset, type Geometry, geometryOf } from '../layout/geometry.js';
import { MAX_LONG_NAME } from '../name/long-name.js';
import { FatDir } from '../node/fat-dir.js';
import { FatTable } from '../table/fat-table.js';

export interface FatOptions {
  /** Mount read-only (also when the device is). */
  readOnly?: boolean;
  /** Bytes of block cache (default 4 MiB). */
  cacheBytes?: number;
  /** Milliseconds since the epoch, for timestamps (default Date.now). */
  clock?: () => number;
  /** How to wait for the device: the scheduler's waitFor in a kernel (see kernelWait). */
  wait?: Waiter;
}

/** Transfers of at least this many bytes go straight between the device and the caller's buffer. */
const DIRECT_BYTES = 64 * 1024;
/** Sequential reads through the cache read this much ahead within a run of clusters. */
const READAHEAD_BYTES = 64 * 1024;
/** Directories kept in memory (with their names) though nothing holds them. */
const RECENT_DIRS = 64;
const ZEROES = new Uint8Array(DIRECT_BYTES);

/**
 * A mounted FAT12/16/32 volume: the FileSystem the VFS sees. One operation runs at a time
 * (FsLock). The volume is marked dirty on the disk — FAT[1]'s clean-shutdown bit cleared and
 * the boot sector's state bit set, as Windows and Linux each look for — before its first
 * change reaches the disk, and clean again at unmount.
 */
export class FatVolume implements FileSystem {
  readonly type = 'vfat';
  readonly maxNameLength = MAX_LONG_NAME;
  readonly readOnly: boolean;
  readonly blockSize: number;
  readonly lock: FsLock;
  /** @internal The file allocation table, through the block cache. */
  readonly table: FatTable;
  readonly root: FatDir;
  readonly clock: () => number;
  /** The volume was not cleanly unmounted before this mount (it is then left marked so, for fsck). */
  readonly wasDirty: boolean;
  #dirtyOnDisk = false;
  #unmounted = false;
  #ino = 2;
  readonly #recent: FatDir[] = [];

  private constructor(
    readonly cache: BlockCache,
    readonly boot: BootSector,
    readonly geo: Geometry,
    options: FatOptions,
    wasDirty: boolean,
  ) {
    this.readOnly = options.readOnly === true || cache.dev.readOnly;
    this.blockSize = cache.blockSize;
    this.lock = new FsLock(options.wait ?? plainWait);
    this.clock = options.clock ?? Date.now;
    this.table = new FatTable(cache, geo);
    this.wasDirty = wasDirty;
    this.root = new FatDir(this, undefined, undefined);
  }

  /** Reads and checks the boot sector; EIO when the device holds no usable FAT file system. */
  static async mount(dev: BlockDevice, options: FatOptions = {}): Promise<FatVolume> {
    const cache = new BlockCache(dev, { capacityBytes: options.cacheBytes, wait: options.wait });
    if (dev.blockCount === 0) throw new KernelError('EIO', 'the device is empty: there is no FAT file system on it');
    const first = await cache.get(0);
    let sector = first;
    if (first.length < 512) {
      sector = new Uint8Array(512);
      await readVolumeBytes(cache, 0, sector);
    }
    const boot = parseBootSector(sector);
    const geo = geometryOf(boot, dev.blockSize * dev.blockCount);
    const table = new FatTable(cache, geo);
    const fat1 = await table.get(1);
    const cleanBit = geo.type === 16 ? 0x8000 : geo.type === 32 ? 0x08000000 : 0;
    const wasDirty = (boot.state & STATE_DIRTY) !== 0 || (cleanBit !== 0 && (fat1 & cleanBit) === 0);
    const vol = new FatVolume(cache, boot, geo, options, wasDirty);
    if (geo.fsInfoOffset !== 0) {
      const b = new Uint8Array(512);
      await vol.readBytes(geo.fsInfoOffset, b);
      const info = parseFsInfo(b);
      if (info !== undefined) vol.table.nextFree = info.nextFree;
    }
    return vol;
  }

  nextIno(): number {
    return this.#ino++;
  }

  /** Keeps a directory (and its parsed names) alive for a while after its last use. */
  touchDir(dir: FatDir): void {
    const r = this.#recent;
    const i = r.indexOf(dir);
    if (i === r.length - 1 && i >= 0) return;
    if (i >= 0) r.splice(i, 1);
    r.push(dir);
    if (r.length > RECENT_DIRS) r.shift();
  }

  clusterOffset(c: number): number {
    return clusterOffset(this.geo, c);
  }

  // ── Changes ────────────────────────────────────────────────────────────────────────────

  /** Called before a change: checks that one may be made, and marks the volume dirty on disk first. */
  async beginChange(): Promise<void> {
    if (this.#unmounted) throw new KernelError('EIO', 'the FAT volume is unmounted');
    if (this.readOnly) throw new KernelError('EROFS', 'the FAT volume is mounted read-only');
    if (this.#dirtyOnDisk) return;
    this.#dirtyOnDisk = true;
    await this.#setStateBits(false);
    await this.cache.flush();
  }

  async #setStateBits(clean: boolean): Promise<void> {
    const at = stateOffset(this.boot.fat32Layout);
    const b = await this.cache.get(0);
    const v = clean ? b[at] & ~STATE_DIRTY : b[at] | STATE_DIRTY;
    if (v !== b[at]) {
      b[at] = v;
      this.cache.markDirty(0, true);
    }
    await this.table.setClean(clean);
  }

  /** `n` free clusters; when only quarantined ones are left, flushes to free them first. */
  async allocate(n: number, near: number): Promise<number[]> {
    if (n > (await this.table.allocatable()) && this.table.quarantined > 0) await this.#flush();
    return this.table.allocate(n, near);
  }

  /** Frees clusters (their cached blocks are forgotten). */
  async release(clusters: Iterable<number>): Promise<void> {
    await this.table.release(clusters, (c) => this.#clusterBlocks(c));
  }

  #clusterBlocks(c: number): [number, number] {
    const at = this.clusterOffset(c);
    const bs = this.blockSize;
    // Only whole blocks may be forgotten: a block shared with another cluster stays.
    if (at % bs !== 0 || this.geo.clusterSize % bs !== 0) return [0, 0];
    return [at / bs, this.geo.clusterSize / bs];
  }

  /**
   * Writes a whole cluster (zeroes when `content` is undefined) straight to the device, so it
   * is there before any metadata that points at it.
   */
  async writeClusterDirect(c: number, content: Uint8Array | undefined): Promise<void> {
    const cs = this.geo.clusterSize;
    const at = this.clusterOffset(c);
    const data = content ?? (cs <= ZEROES.length ? ZEROES.subarray(0, cs) : new Uint8Array(cs));
    if (at % this.blockSize === 0 && cs % this.blockSize === 0) await this.cache.writeDirect(at / this.blockSize, data);
    else await this.writeBytes(at, data, true);
  }

  // ── Bytes ──────────────────────────────────────────────────────────────────────────────

  /**
   * Reads `dst.length` bytes at volume offset `at`: whole-block stretches of 64 KiB and more
   * straight from the device, the rest through the cache, reading `ahead` more bytes on a miss.
   */
  async readBytes(at: number, dst: Uint8Array, ahead = 0): Promise<void> {
    const bs = this.blockSize;
    const len = dst.length;
    let done = 0;
    while (done < len) {
      const pos = at + done;
      const blk = Math.floor(pos / bs);
      const o = pos - blk * bs;
      const left = len - done;
      if (o === 0 && left >= DIRECT_BYTES) {
        const n = Math.floor(left / bs);
        await this.cache.readDirect(blk, dst.subarray(done, done + n * bs));
        done += n * bs;
        continue;
      }
      let b = this.cache.peek(blk);
      if (b === undefined) {
        const want = Math.ceil((o + left + Math.min(ahead, READAHEAD_BYTES)) / bs);
        await this.cache.prefetch(blk, Math.max(1, Math.min(want, this.cache.blockCount - blk)));
        b = await this.cache.get(blk);
      }
      const n = Math.min(bs - o, left);
      if (n <= 32) for (let i = 0; i < n; i++) dst[done + i] = b[o + i];
      else dst.set(b.subarray(o, o + n), done);
      done += n;
    }
  }

  /**
   * Writes `src` (zeroes when undefined) at volume offset `at`. File data (`meta` false) of
   * 64 KiB and more goes straight to the device; the rest is changed in the cache and written
   * back later. Blocks from volume offset `freshFrom` on belong to clusters just allocated:
   * what they held is no one's, so they are not read first.
   */
  async writeBytes(at: number, src: Uint8Array | undefined, meta: boolean, length = src?.length ?? 0, freshFrom = Number.POSITIVE_INFINITY): Promise<void> {
    const bs = this.blockSize;
    let done = 0;
    while (done < length) {
      const pos = at + done;
      const blk = Math.floor(pos / bs);
      const o = pos - blk * bs;
      const left = length - done;
      if (o === 0 && left >= DIRECT_BYTES && !meta) {
        const n = Math.min(Math.floor(left / bs), src === undefined ? ZEROES.length / bs : Number.POSITIVE_INFINITY);
        await this.cache.writeDirect(blk, src === undefined ? ZEROES.subarray(0, n * bs) : src.subarray(done, done + n * bs));
        done += n * bs;
        continue;
      }
      const n = Math.min(bs - o, left);
      let b: Uint8Array;
      if (n === bs || blk * bs >= freshFrom) b = this.cache.peek(blk) ?? this.cache.zero(blk, meta);
      else b = this.cache.peek(blk) ?? (await this.cache.get(blk));
      if (n === bs && src === undefined) b.fill(0);
      if (src !== undefined) {
        if (n <= 32) for (let i = 0; i < n; i++) b[o + i] = src[done + i];
        else b.set(src.subarray(done, done + n), o);
      } else if (n !== bs) {
        b.fill(0, o, o + n);
      }
      this.cache.markDirty(blk, meta);
      done += n;
    }
  }

  // ── FileSystem ─────────────────────────────────────────────────────────────────────────

  async statfs(): Promise<FsStats> {
    return this.lock.run(async () => ({
      type: this.type,
      blockSize: this.geo.clusterSize,
      blocks: this.geo.clusterCount,
      freeBlocks: await this.table.freeClusters(),
      maxNameLength: this.maxNameLength,
      readOnly: this.readOnly,
    }));
  }

  /** Makes every change durable: FSInfo updated, every dirty block written, the device flushed. */
  async sync(): Promise<void> {
    await this.lock.run(() => this.#flush());
  }

  async #flush(): Promise<void> {
    if (this.#dirtyOnDisk) await this.#writeFsInfo();
    await this.cache.flush();
    this.table.endQuarantine();
  }

  async #writeFsInfo(): Promise<void> {
    if (this.geo.fsInfoOffset === 0) return;
    const bs = this.blockSize;
    const blk = Math.floor(this.geo.fsInfoOffset / bs);
    const o = this.geo.fsInfoOffset - blk * bs;
    const free = await this.table.freeClusters();
    const b = await this.cache.get(blk);
    // Leave a damaged FSInfo sector alone rather than half-write it.
    if (parseFsInfo(b.subarray(o, o + 512)) === undefined) return;
    writeFsInfoHints({ freeCount: free, nextFree: this.table.nextFree }, b.subarray(o, o + 512));
    this.cache.markDirty(blk, true);
  }

  /** Flushes and marks the volume clean (unless it was dirty when mounted); later calls fail with EIO. */
  async unmount(): Promise<void> {
    await this.lock.run(async () => {
      if (this.#unmounted) return;
      if (this.#dirtyOnDisk) {
        await this.#flush();
        if (!this.wasDirty) {
          await this.#setStateBits(true);
          await this.cache.flush();
        }
        this.#dirtyOnDisk = false;
      }
      this.#unmounted = true;
    });
  }

  get unmounted(): boolean {
    return this.#unmounted;
  }
}

async function readVolumeBytes(cache: BlockCache, at: number, dst: Uint8Array): Promise<void> {
  const bs = cache.blockSize;
  for (let done = 0; done < dst.length; ) {
    const blk = Math.floor((at + done) / bs);
    const o = at + done - blk * bs;
    const n = Math.min(bs - o, dst.length - done);
    dst.set((await cache.get(blk)).subarray(o, o + n), done);
    done += n;
  }
}
