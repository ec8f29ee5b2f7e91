import { KernelError } from '@uk/hal';
import type { DirEntry, NodeType, Vnode } from '@uk/vfs';
import { DirIndex, type EntryRecord } from '../dir/dir-index.js';
import { DirSlots, MAX_DIR_SLOTS } from '../dir/dir-slots.js';
import {
  Attr,
  DIR_ENTRY_SIZE,
  ENTRY_FREE,
  type ShortEntry,
  shortNameChecksum,
  writeLongEntry,
  writeShortEntry,
} from '../layout/dir-entry.js';
import { checkLongName, longEntryCount, toUnits } from '../name/long-name.js';
import { chooseShortName, type ShortNameChoice } from '../name/short-name.js';
import { toDosStamp } from '../time/dos-time.js';
import type { FatVolume } from '../volume/fat-volume.js';
import { FatFile } from './fat-file.js';
import { FatNode } from './fat-node.js';

const DOT = new Uint8Array([0x2e, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]);
const DOTDOT = new Uint8Array([0x2e, 0x2e, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]);

/**
 * A directory of a FAT volume. Its names are read once into a DirIndex; every change
 * writes entries through the block cache and updates the index. Each operation takes the
 * volume's lock.
 */
export class FatDir extends FatNode implements Vnode {
  readonly type = 'directory';
  #index: DirIndex | undefined;
  #slots: DirSlots | undefined;
  /** Removed from its parent: nothing more may be created in it. */
  #gone = false;

  /** @internal Made by the volume as it reads directories. */
  constructor(fs: FatVolume, parent: FatDir | undefined, rec: EntryRecord | undefined) {
    super(fs, parent, rec);
  }

  get size(): number {
    return (this.#slots?.capacity ?? 0) * DIR_ENTRY_SIZE;
  }

  protected allocatedBytes(): number {
    return this.size;
  }

  /** The first cluster (0 for the fixed root of FAT12/16). */
  get first(): number {
    return this.rec === undefined ? this.fs.geo.rootCluster : this.rec.entry.firstCluster;
  }

  get isRoot(): boolean {
    return this.rec === undefined;
  }

  /** A directory's entries are metadata of the volume: syncing it is syncing the volume. */
  override fsync(): Promise<void> {
    return this.fs.sync();
  }

  /** @internal Whether `rec` is one of this directory's names now. */
  holds(rec: EntryRecord): boolean {
    return this.#index !== undefined && this.#index.find(rec.name) === rec;
  }

  /** @internal The directory's slots, once `load` has read them. */
  loadedSlots(): DirSlots {
    if (this.#slots === undefined) throw new KernelError('EIO', 'a directory was used before it was read');
    return this.#slots;
  }

  /** @internal Reads the directory's names once (under the volume's lock). */
  async load(): Promise<DirIndex> {
    this.fs.touchDir(this);
    if (this.#index !== undefined) return this.#index;
    const name = this.rec === undefined ? 'the root directory' : `directory "${this.rec.name}"`;
    let slots: DirSlots;
    if (this.isRoot && this.fs.geo.type !== 32) {
      slots = new DirSlots(this.fs, undefined);
    } else {
      if (this.first === 0) throw new KernelError('EIO', `${name} has no clusters: the file system is damaged (run fsck.fat)`);
      const limit = Math.ceil((MAX_DIR_SLOTS * DIR_ENTRY_SIZE) / this.fs.geo.clusterSize);
      slots = new DirSlots(this.fs, await this.fs.table.chain(this.first, name, limit));
    }
    const index = DirIndex.parse(await slots.readAll(), this.fs.geo.type === 32, () => this.fs.nextIno());
    this.#slots = slots;
    this.#index = index;
    return index;
  }

  #nodeFor(rec: EntryRecord): FatNode {
    const held = rec.node?.deref() as FatNode | undefined;
    if (held !== undefined) return held;
    const node = (rec.entry.attr & Attr.Directory) !== 0 ? new FatDir(this.fs, this, rec) : new FatFile(this.fs, this, rec);
    rec.node = new WeakRef(node);
    return node;
  }

  override lookup(name: string): Promise<Vnode | undefined> {
    return this.fs.lock.run(async () => {
      const rec = (await this.load()).find(name);
      return rec === undefined ? undefined : this.#nodeFor(rec);
    });
  }

  override readdir(): Promise<DirEntry[]> {
    return this.fs.lock.run(async () => {
      const index = await this.load();
      return index.list().map((r) => ({ name: r.name, type: (r.entry.attr & Attr.Directory) !== 0 ? 'directory' : 'file', ino: r.ino }));
    });
  }

  override create(name: string, type: NodeType, _target?: string): Promise<Vnode> {
    return this.fs.lock.run(async () => {
      if (type === 'symlink') throw new KernelError('EPERM', `cannot make symbolic link "${name}": FAT has no symbolic links`);
      checkLongName(name);
      const index = await this.load();
      if (index.find(name) !== undefined) throw new KernelError('EEXIST', `"${name}" exists already (FAT names ignore case)`);
      if (this.#gone) throw new KernelError('ENOENT', 'the directory was removed');
      await this.fs.beginChange();
      const choice = chooseShortName(name, (key) => index.isShortTaken(key));
      const now = toDosStamp(this.fs.clock());
      const entry: ShortEntry = {
        name: choice.name,
        attr: type === 'directory' ? Attr.Directory : Attr.Archive,
        ntRes: choice.ntRes,
        createTenths: now.tenths,
        createTime: now.time,
        createDate: now.date,
        accessDate: now.date,
        firstCluster: 0,
        writeTime: now.time,
        writeDate: now.date,
        size: 0,
      };
      const slot = await this.#reserveSlots(index, choice.needsLong ? longEntryCount(name) + 1 : 1);
      if (type === 'directory') entry.firstCluster = await this.#newDirCluster(entry);
      const rec = await this.#insert(index, slot, name, choice, entry, this.fs.nextIno());
      return this.#nodeFor(rec);
    });
  }

  /** A cluster for a new directory with its "." and ".." entries, on the disk before anything points at it. */
  async #newDirCluster(entry: ShortEntry): Promise<number> {
    const [c] = await this.fs.allocate(1, 0);
    const content = new Uint8Array(this.fs.geo.clusterSize);
    writeShortEntry({ ...entry, name: DOT, ntRes: 0, firstCluster: c }, content, 0);
    // ".." of a directory in the root names cluster 0, on FAT32 too.
    writeShortEntry({ ...entry, name: DOTDOT, ntRes: 0, firstCluster: this.isRoot ? 0 : this.first }, content, DIR_ENTRY_SIZE);
    await this.fs.writeClusterDirect(c, content);
    await this.fs.table.link(0, [c]);
    return c;
  }

  /** The first slot of a free run of `count`, growing the directory when it has none. */
  async #reserveSlots(index: DirIndex, count: number): Promise<number> {
    const slots = this.loadedSlots();
    let first = index.findFree(count);
    while (first < 0) {
      await slots.grow(this.rec === undefined ? 'the root directory' : `directory "${this.rec.name}"`);
      index.grow(slots.capacity);
      first = index.findFree(count);
    }
    return first;
  }

  /** Writes a name's long entries and short entry at `first` and records it. */
  async #insert(index: DirIndex, first: number, name: string, choice: ShortNameChoice, entry: ShortEntry, ino: number): Promise<EntryRecord> {
    const slots = this.loadedSlots();
    const lfn = choice.needsLong ? longEntryCount(name) : 0;
    const bytes = new Uint8Array((lfn + 1) * DIR_ENTRY_SIZE);
    if (lfn > 0) {
      const units = toUnits(name);
      const sum = shortNameChecksum(choice.name);
      // Stored last part first: the entry with ordinal `lfn` (flagged last) leads.
      for (let k = 0; k < lfn; k++) writeLongEntry(units, lfn - k, k === 0, sum, bytes, k * DIR_ENTRY_SIZE);
    }
    writeShortEntry(entry, bytes, lfn * DIR_ENTRY_SIZE);
    await slots.write(first, bytes);
    const slot = first + lfn;
    if (slot >= index.end) {
      // The free tail began here: move its 0x00 mark past the new name.
      if (slot + 1 < index.capacity) await slots.mark(slot + 1, 1, 0);
      index.end = slot + 1;
    }
    const rec: EntryRecord = { name, shortName: choice.name, slot, lfnCount: lfn, entry, ino, node: undefined };
    index.add(rec);
    return rec;
  }

  /** Deletes a name's entries (0xE5 in each slot) and forgets it. */
  async #erase(index: DirIndex, rec: EntryRecord): Promise<void> {
    await this.loadedSlots().mark(rec.slot - rec.lfnCount, rec.lfnCount + 1, ENTRY_FREE);
    index.remove(rec);
  }

  /** The record of `name` that is `node`, or ENOENT. */
  #recordOf(index: DirIndex, name: string, node: Vnode): EntryRecord {
    const rec = index.find(name);
    if (rec === undefined || (node as FatNode).rec !== rec) throw new KernelError('ENOENT', `"${name}" is gone`);
    return rec;
  }

  /** Frees what a removed name held: a directory's clusters now, a file's at its last close. */
  async #dispose(node: FatNode): Promise<void> {
    if (node instanceof FatFile) {
      await node.unlinked();
    } else if (node instanceof FatDir) {
      node.#gone = true;
      const chain = node.#slots?.chain;
      if (chain !== undefined && chain.count > 0) await this.fs.release([...chain.clusters()]);
    }
  }

  override remove(name: string, node: Vnode): Promise<void> {
    return this.fs.lock.run(async () => {
      const index = await this.load();
      const rec = this.#recordOf(index, name, node);
      const target = node as FatNode;
      if (target instanceof FatDir && (await target.load()).size > 0) throw new KernelError('ENOTEMPTY', `directory "${name}" is not empty`);
      await this.fs.beginChange();
      await this.#erase(index, rec);
      await this.#dispose(target);
    });
  }

  override rename(name: string, node: Vnode, to: Vnode, toName: string, replaced: Vnode | undefined): Promise<void> {
    return this.fs.lock.run(async () => {
      const dest = to as FatDir;
      const index = await this.load();
      const rec = this.#recordOf(index, name, node);
      const moving = node as FatNode;
      checkLongName(toName);
      const destIndex = await dest.load();
      if (dest.#gone) throw new KernelError('ENOENT', 'the target directory was removed');
      const current = destIndex.find(toName);
      let victim: FatNode | undefined;
      if (current !== undefined && current !== rec) {
        victim = dest.#nodeFor(current);
        if (replaced === undefined || victim !== replaced) throw new KernelError('EAGAIN', `"${toName}" changed during the rename; try again`);
        if (victim instanceof FatDir && (await victim.load()).size > 0) throw new KernelError('ENOTEMPTY', `directory "${toName}" is not empty`);
      }
      await this.fs.beginChange();
      const choice = chooseShortName(toName, (key) => {
        const owner = destIndex.shortOwner(key);
        return owner !== undefined && owner !== rec && owner !== current;
      });
      const entry: ShortEntry = { ...rec.entry, name: choice.name, ntRes: choice.ntRes };
      // The new name is written before the old one goes: a crash leaves two names (which
      // fsck mends), never none.
      const slot = await dest.#reserveSlots(destIndex, choice.needsLong ? longEntryCount(toName) + 1 : 1);
      const moved = await dest.#insert(destIndex, slot, toName, choice, entry, rec.ino);
      moved.node = rec.node;
      await this.#erase(index, rec);
      if (current !== undefined && current !== rec && victim !== undefined) {
        await dest.#erase(destIndex, current);
        await dest.#dispose(victim);
      }
      moving.rec = moved;
      moving.parent = dest;
      if (moving instanceof FatDir && dest !== this) await moving.#pointParentAt(dest);
    });
  }

  /** Sets this directory's ".." to `parent` (after a move). */
  async #pointParentAt(parent: FatDir): Promise<void> {
    await this.load();
    const slots = this.loadedSlots();
    if (slots.capacity < 2) return;
    const [b, o] = await slots.slot(1);
    for (let i = 0; i < 11; i++) if (b[o + i] !== DOTDOT[i]) return;
    const c = parent.isRoot ? 0 : parent.first;
    b[o + 20] = (c >>> 16) & 0xff;
    b[o + 21] = (c >>> 24) & 0xff;
    b[o + 26] = c & 0xff;
    b[o + 27] = (c >>> 8) & 0xff;
    if (this.fs.geo.type !== 32) {
      b[o + 20] = 0;
      b[o + 21] = 0;
    }
    slots.touched(1);
  }
}
