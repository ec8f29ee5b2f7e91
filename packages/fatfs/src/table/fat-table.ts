import { KernelError } from '@uk/hal';
import type { BlockCache } from '@uk/vfs';
import type { Geometry } from '../layout/geometry.js';
import { Extents } from './extents.js';

/** FAT[1]'s clean-shutdown bit (FAT16 / FAT32); clear while the volume is in use. */
const CLEAN_BIT_16 = 0x8000;
const CLEAN_BIT_32 = 0x08000000;
/** FAT blocks read at once on a miss: chains and scans read the FAT in order. */
const FAT_READAHEAD = 128;
/** FAT entries are little-endian; word views read them directly only on a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The file allocation table: entries read and written through the block cache (every FAT
 * copy kept in step when mirroring is on), chains walked with checks, and an in-memory map
 * of free clusters for allocation.
 *
 * Clusters freed since the last flush are quarantined: not handed out again until the FAT
 * that frees them is on the disk. Otherwise new data written straight to the device could
 * land in a cluster that the on-disk FAT still gives to the deleted file, and a crash would
 * show that file with someone else's bytes.
 */
export class FatTable {
  readonly type: 12 | 16 | 32;
  /** The largest valid cluster number. */
  readonly maxCluster: number;
  /** The end-of-chain value written. */
  readonly eoc: number;
  readonly #bs: number;
  readonly #bases: number[];
  /** 1 bit per cluster: in use, or quarantined. Built on first need. */
  #used: Uint32Array | undefined;
  /** Entries that are 0 in the FAT (quarantined ones included). */
  #zeroes = 0;
  readonly #quarantine: number[] = [];
  #nextFree = 2;

  constructor(
    readonly cache: BlockCache,
    readonly geo: Geometry,
  ) {
    this.type = geo.type;
    this.maxCluster = geo.clusterCount + 1;
    this.eoc = geo.type === 12 ? 0xfff : geo.type === 16 ? 0xffff : 0x0fffffff;
    this.#bs = cache.blockSize;
    const copies = geo.mirrored ? Array.from({ length: geo.numFats }, (_, i) => i) : [geo.activeFat];
    this.#bases = copies.map((i) => geo.fatOffset + i * geo.fatBytes);
  }

  isEoc(v: number): boolean {
    return v >= (this.type === 12 ? 0xff8 : this.type === 16 ? 0xfff8 : 0x0ffffff8);
  }

  isValidCluster(c: number): boolean {
    return c >= 2 && c <= this.maxCluster;
  }

  // ── Entries ────────────────────────────────────────────────────────────────────────────

  #offset(c: number): number {
    return this.type === 12 ? c + (c >>> 1) : this.type === 16 ? c * 2 : c * 4;
  }

  /** The entry from the cache, or -1 when its blocks are not cached. */
  #peek(base: number, c: number): number {
    const at = base + this.#offset(c);
    const bs = this.#bs;
    const blk = Math.floor(at / bs);
    const o = at - blk * bs;
    const b = this.cache.peek(blk);
    if (b === undefined) return -1;
    if (this.type === 16) return b[o] | (b[o + 1] << 8);
    if (this.type === 32) return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) & 0x0fffffff;
    let pair: number;
    if (o + 1 < bs) {
      pair = b[o] | (b[o + 1] << 8);
    } else {
      const b2 = this.cache.peek(blk + 1);
      if (b2 === undefined) return -1;
      pair = b[o] | (b2[0] << 8);
    }
    return (c & 1) === 0 ? pair & 0xfff : pair >>> 4;
  }

  async #load(base: number, c: number): Promise<void> {
    const at = base + this.#offset(c);
    const first = Math.floor(at / this.#bs);
    const end = Math.ceil((base + this.geo.fatBytes) / this.#bs);
    await this.cache.prefetch(first, Math.min(FAT_READAHEAD, end - first));
  }

  /** Entry `c` of the active FAT (FAT32's top four bits left out). */
  async get(c: number): Promise<number> {
    const base = this.#bases[0];
    for (let tries = 0; ; tries++) {
      const v = this.#peek(base, c);
      if (v >= 0) return v;
      if (tries > 3) throw new KernelError('EIO', `FAT entry ${c} cannot stay in the cache (cache too small?)`);
      await this.#load(base, c);
    }
  }

  /** Sets entry `c` in every FAT copy (FAT32's top four bits kept, as the specification asks). */
  async set(c: number, value: number): Promise<void> {
    for (let tries = 0; ; tries++) {
      let missing = -1;
      for (const base of this.#bases) {
        if (this.#peek(base, c) < 0) {
          missing = base;
          break;
        }
      }
      if (missing < 0) break;
      if (tries > 3) throw new KernelError('EIO', `FAT entry ${c} cannot stay in the cache (cache too small?)`);
      await this.#load(missing, c);
    }
    for (const base of this.#bases) this.#poke(base, c, value);
  }

  #poke(base: number, c: number, value: number): void {
    const at = base + this.#offset(c);
    const bs = this.#bs;
    const blk = Math.floor(at / bs);
    const o = at - blk * bs;
    const b = this.cache.peek(blk) as Uint8Array;
    if (this.type === 16) {
      b[o] = value & 0xff;
      b[o + 1] = (value >>> 8) & 0xff;
    } else if (this.type === 32) {
      b[o] = value & 0xff;
      b[o + 1] = (value >>> 8) & 0xff;
      b[o + 2] = (value >>> 16) & 0xff;
      b[o + 3] = (b[o + 3] & 0xf0) | ((value >>> 24) & 0x0f);
    } else {
      const b2 = o + 1 < bs ? b : (this.cache.peek(blk + 1) as Uint8Array);
      const o2 = o + 1 < bs ? o + 1 : 0;
      if ((c & 1) === 0) {
        b[o] = value & 0xff;
        b2[o2] = (b2[o2] & 0xf0) | ((value >>> 8) & 0x0f);
      } else {
        b[o] = (b[o] & 0x0f) | ((value << 4) & 0xf0);
        b2[o2] = (value >>> 4) & 0xff;
      }
      if (b2 !== b) this.cache.markDirty(blk + 1, true);
    }
    this.cache.markDirty(blk, true);
  }

  // ── The clean-shutdown bit ─────────────────────────────────────────────────────────────

  /** Sets or clears FAT[1]'s clean-shutdown bit (FAT12 has none). */
  async setClean(clean: boolean): Promise<void> {
    if (this.type === 12) return;
    const bit = this.type === 16 ? CLEAN_BIT_16 : CLEAN_BIT_32;
    const v = await this.get(1);
    const next = clean ? v | bit : v & ~bit;
    if (next !== v) await this.set(1, next);
  }

  // ── Chains ─────────────────────────────────────────────────────────────────────────────

  /**
   * The chain from `first`, checked: every link a valid cluster, no loop, and it ends in an
   * end-of-chain mark. `limit` stops early (for directories, which have a size cap).
   */
  async chain(first: number, what: string, limit = Number.POSITIVE_INFINITY): Promise<Extents> {
    const ext = new Extents();
    if (first === 0) return ext;
    if (this.type === 12 || !LITTLE_ENDIAN) return this.#chainByEntry(ext, first, what, limit);
    const base = this.#bases[0];
    const bs = this.#bs;
    const shift = this.type === 32 ? 2 : 1;
    const mask = this.type === 32 ? 0x0fffffff : 0xffff;
    const perBlock = bs >>> shift;
    let c = first;
    for (;;) {
      if (!this.isValidCluster(c)) throw this.#broken(what, `points to cluster ${c}, outside 2..${this.maxCluster}`);
      const at = base + (c << shift);
      const blk = Math.floor(at / bs);
      let b = this.cache.peek(blk);
      if (b === undefined) {
        await this.#load(base, c);
        b = await this.cache.get(blk);
      }
      // The entries of this block as words: a contiguous run is a tight scan, not a walk.
      const words = shift === 2 ? new Int32Array(b.buffer, b.byteOffset, perBlock) : new Uint16Array(b.buffer, b.byteOffset, perBlock);
      let i = (at - blk * bs) >>> shift;
      const start = c;
      let next = words[i] & mask;
      while (next === c + 1 && i + 1 < perBlock) {
        c = next;
        next = words[++i] & mask;
      }
      ext.pushRun(start, c - start + 1);
      if (ext.count > this.geo.clusterCount) throw this.#broken(what, 'loops back on itself');
      if (ext.count >= limit) {
        ext.truncate(limit);
        return ext;
      }
      if (this.isEoc(next)) return ext;
      if (next === 0) throw this.#broken(what, `runs into free cluster after cluster ${c}`);
      c = next;
    }
  }

  /** The chain, one entry at a time (FAT12's entries straddle bytes and blocks). */
  async #chainByEntry(ext: Extents, first: number, what: string, limit: number): Promise<Extents> {
    let c = first;
    for (;;) {
      if (!this.isValidCluster(c)) throw this.#broken(what, `points to cluster ${c}, outside 2..${this.maxCluster}`);
      ext.push(c);
      if (ext.count > this.geo.clusterCount) throw this.#broken(what, 'loops back on itself');
      if (ext.count >= limit) return ext;
      let next = this.#peek(this.#bases[0], c);
      if (next < 0) next = await this.get(c);
      if (this.isEoc(next)) return ext;
      if (next === 0) throw this.#broken(what, `runs into free cluster after cluster ${c}`);
      c = next;
    }
  }

  #broken(what: string, why: string): KernelError {
    return new KernelError('EIO', `the cluster chain of ${what} ${why}: the file system is damaged (run fsck.fat)`);
  }

  /** Links `clusters` in order after `after` (0: a new chain) and ends the chain. */
  async link(after: number, clusters: readonly number[]): Promise<void> {
    for (let i = 0; i < clusters.length; i++) await this.set(clusters[i], i + 1 < clusters.length ? clusters[i + 1] : this.eoc);
    if (after !== 0 && clusters.length > 0) await this.set(after, clusters[0]);
  }

  // ── Free space ─────────────────────────────────────────────────────────────────────────

  /** Reads the whole FAT once to learn which clusters are free. */
  async #scan(): Promise<Uint32Array> {
    if (this.#used !== undefined) return this.#used;
    const used = new Uint32Array(((this.maxCluster + 1) >>> 5) + 1);
    const bs = this.#bs;
    const base = this.#bases[0];
    const firstBlock = Math.floor(base / bs);
    const lead = base - firstBlock * bs;
    const needBytes = lead + this.#offset(this.maxCluster) + 4;
    const totalBlocks = Math.min(Math.ceil(needBytes / bs), this.cache.blockCount - firstBlock);
    const chunkBlocks = 256;
    const width = this.type === 32 ? 4 : 2;
    let zeroes = 0;
    const buf = new Uint8Array(chunkBlocks * bs);
    let c = 2;
    while (c <= this.maxCluster) {
      // Each chunk starts at the block of the next entry, so an entry is never cut in two.
      const blk = Math.floor((lead + this.#offset(c)) / bs);
      const n = Math.min(chunkBlocks, totalBlocks - blk);
      if (n <= 0) break;
      const view = buf.subarray(0, n * bs);
      await this.cache.readDirect(firstBlock + blk, view);
      const chunkStart = blk * bs - lead;
      const chunkEnd = chunkStart + n * bs;
      const before = c;
      for (; c <= this.maxCluster; c++) {
        const at = this.#offset(c);
        if (at + width > chunkEnd) break;
        const o = at - chunkStart;
        let v: number;
        if (this.type === 16) v = view[o] | (view[o + 1] << 8);
        else if (this.type === 32) v = (view[o] | (view[o + 1] << 8) | (view[o + 2] << 16) | (view[o + 3] << 24)) & 0x0fffffff;
        else {
          const pair = view[o] | (view[o + 1] << 8);
          v = (c & 1) === 0 ? pair & 0xfff : pair >>> 4;
        }
        if (v === 0) zeroes++;
        else used[c >>> 5] |= 1 << (c & 31);
      }
      if (c === before) break;
    }
    // Entries the scan could not reach (a FAT cut short) count as used.
    for (; c <= this.maxCluster; c++) used[c >>> 5] |= 1 << (c & 31);
    for (const q of this.#quarantine) used[q >>> 5] |= 1 << (q & 31);
    this.#zeroes = zeroes;
    this.#used = used;
    return used;
  }

  /** Free clusters as the FAT says (quarantined ones included): what FSInfo records. */
  async freeClusters(): Promise<number> {
    await this.#scan();
    return this.#zeroes;
  }

  /** Clusters that can be allocated now. */
  async allocatable(): Promise<number> {
    await this.#scan();
    return this.#zeroes - this.#quarantine.length;
  }

  get quarantined(): number {
    return this.#quarantine.length;
  }

  /** Where the next search for a free cluster starts (FSInfo's hint). */
  get nextFree(): number {
    return this.#nextFree;
  }

  set nextFree(c: number) {
    if (this.isValidCluster(c)) this.#nextFree = c;
  }

  /**
   * Takes `n` free clusters, as few runs as the free map allows, starting the search at
   * `near` (the file's last cluster + 1). ENOSPC, with nothing taken, when there are fewer.
   * The clusters are not linked: see `link`.
   */
  async allocate(n: number, near = 0): Promise<number[]> {
    const used = await this.#scan();
    const avail = this.#zeroes - this.#quarantine.length;
    if (n > avail) throw new KernelError('ENOSPC', `the disk is full: ${n} clusters wanted, ${avail} free`);
    const out: number[] = [];
    const max = this.maxCluster;
    let c = this.isValidCluster(near) ? near : this.#nextFree;
    let scanned = 0;
    while (out.length < n) {
      if (c > max) c = 2;
      const w = used[c >>> 5];
      if (w === 0xffffffff && (c & 31) === 0) {
        c += 32;
        scanned += 32;
      } else {
        if ((w & (1 << (c & 31))) === 0) {
          used[c >>> 5] = w | (1 << (c & 31));
          out.push(c);
        }
        c++;
        scanned++;
      }
      if (scanned > max + 64 && out.length < n) throw new KernelError('EIO', 'the free-cluster map and the free count disagree');
    }
    this.#zeroes -= n;
    this.#nextFree = c > max ? 2 : c;
    return out;
  }

  /** Gives back clusters taken by `allocate` but never linked (a write that failed half-way). */
  unallocate(clusters: readonly number[]): void {
    const used = this.#used as Uint32Array;
    for (const c of clusters) used[c >>> 5] &= ~(1 << (c & 31));
    this.#zeroes += clusters.length;
  }

  /**
   * Frees `clusters` (already unlinked or a whole chain being dropped): their entries become
   * 0, they are quarantined, and cached blocks of theirs are forgotten.
   */
  async release(clusters: Iterable<number>, clusterBlocks: (c: number) => [number, number]): Promise<void> {
    await this.#scan();
    for (const c of clusters) {
      await this.set(c, 0);
      this.#quarantine.push(c);
      this.#zeroes++;
      const [blk, count] = clusterBlocks(c);
      this.cache.discard(blk, count);
    }
  }

  /** After a flush: quarantined clusters are free on the disk too, and can be reused. */
  endQuarantine(): void {
    const used = this.#used;
    if (used !== undefined) for (const c of this.#quarantine) used[c >>> 5] &= ~(1 << (c & 31));
    this.#quarantine.length = 0;
  }
}
