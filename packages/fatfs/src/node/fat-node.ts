import { type NodeType, type Stat, typeBits, VnodeBase } from '@uk/vfs';
import type { EntryRecord } from '../dir/dir-index.js';
import { Attr, writeShortEntry } from '../layout/dir-entry.js';
import { fromDosStamp, toDosStamp } from '../time/dos-time.js';
import type { FatVolume } from '../volume/fat-volume.js';
import type { FatDir } from './fat-dir.js';

/** What files and directories of a FAT volume share: their directory entry and its parent. */
export abstract class FatNode extends VnodeBase {
  abstract override readonly type: NodeType;

  /** @internal Made by the volume as it reads directories. */
  constructor(
    readonly fs: FatVolume,
    /** The directory holding this node's entry (undefined for the root). */
    public parent: FatDir | undefined,
    /** @internal The entry (undefined for the root, which has none). */
    public rec: EntryRecord | undefined,
  ) {
    super();
  }

  get ino(): number {
    return this.rec?.ino ?? 1;
  }

  abstract readonly size: number;

  /** Bytes the node occupies on the disk. */
  protected abstract allocatedBytes(): number;

  stat(): Stat {
    const e = this.rec?.entry;
    const mtime = e === undefined ? 0 : fromDosStamp(e.writeDate, e.writeTime);
    const writable = e === undefined || (e.attr & Attr.ReadOnly) === 0;
    return {
      dev: 0,
      ino: this.ino,
      type: this.type,
      mode: typeBits(this.type) | (writable ? 0o755 : 0o555),
      nlink: 1,
      size: this.size,
      blocks: Math.ceil(this.allocatedBytes() / 512),
      blksize: this.fs.geo.clusterSize,
      atimeMs: e === undefined ? 0 : fromDosStamp(e.accessDate, 0),
      mtimeMs: mtime,
      ctimeMs: mtime,
      birthtimeMs: e === undefined ? 0 : fromDosStamp(e.createDate, e.createTime, e.createTenths),
    };
  }

  /** Stamps the entry as written now (and accessed today). */
  touch(): void {
    const e = this.rec?.entry;
    if (e === undefined) return;
    const now = toDosStamp(this.fs.clock());
    e.writeDate = now.date;
    e.writeTime = now.time;
    e.accessDate = now.date;
  }

  /** Writes the entry back into its directory slot (in the cache). */
  async saveEntry(): Promise<void> {
    const rec = this.rec;
    const dir = this.parent;
    if (rec === undefined || dir === undefined || !dir.holds(rec)) return;
    const slots = dir.loadedSlots();
    const [b, o] = await slots.slot(rec.slot);
    writeShortEntry(rec.entry, b, o);
    slots.touched(rec.slot);
  }

  async setTimes(atimeMs: number, mtimeMs: number): Promise<void> {
    await this.fs.lock.run(async () => {
      const e = this.rec?.entry;
      if (e === undefined) return;
      await this.fs.beginChange();
      const w = toDosStamp(mtimeMs);
      e.writeDate = w.date;
      e.writeTime = w.time;
      e.accessDate = toDosStamp(atimeMs).date;
      await this.saveEntry();
    });
  }
}
