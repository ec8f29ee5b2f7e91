import {
  Attr,
  DIR_ENTRY_SIZE,
  ENTRY_END,
  ENTRY_FREE,
  isLongNameEntry,
  LAST_LONG_ENTRY,
  readLongEntryUnits,
  readShortEntry,
  type ShortEntry,
  shortNameChecksum,
} from '../layout/dir-entry.js';
import { foldName } from '../name/case-fold.js';
import { displayShortName, shortKey } from '../name/short-name.js';

/** One name of a directory: its entries' place and the short entry's fields. */
export interface EntryRecord {
  /** The long name, or the short name as it reads. */
  name: string;
  /** The 11 stored bytes of the short name. */
  shortName: Uint8Array;
  /** Slot of the short entry; the long entries come just before it. */
  slot: number;
  lfnCount: number;
  /** The short entry's fields: the node changes these and writes them back. */
  entry: ShortEntry;
  /** An inode number for this mount's lifetime. */
  ino: number;
  /** The node made for it while someone holds that node. */
  node: WeakRef<object> | undefined;
}

/** A long-name sequence being read. */
interface Pending {
  count: number;
  expected: number;
  checksum: number;
  start: number;
  parts: number[][];
}

/**
 * A directory's names in memory, read once when the directory is first used: lookups by
 * long or short name without regard to case, the short names taken (for ~N tails), and
 * which 32-byte slots are free. Damaged entries are read as best they can be, never trusted
 * to be well-formed: orphaned long-name entries are skipped, a bad checksum falls back to the
 * short name.
 */
export class DirIndex {
  readonly #byName = new Map<string, EntryRecord>();
  readonly #byShortKey = new Map<string, EntryRecord>();
  readonly #records = new Set<EntryRecord>();
  #used: Uint8Array;
  #firstFree = 0;
  /**
   * The first slot of the free tail that a 0x00 entry starts: readers stop there, so a
   * name written at or past it must move the 0x00 mark after itself.
   */
  end = 0;

  private constructor(capacity: number) {
    this.#used = new Uint8Array(capacity);
  }

  /** Reads a directory's slots. */
  static parse(bytes: Uint8Array, fat32: boolean, nextIno: () => number): DirIndex {
    const capacity = Math.floor(bytes.length / DIR_ENTRY_SIZE);
    const idx = new DirIndex(capacity);
    const used = idx.#used;
    const late: EntryRecord[] = [];
    let pending: Pending | undefined;
    idx.end = capacity;
    for (let i = 0; i < capacity; i++) {
      const o = i * DIR_ENTRY_SIZE;
      const b0 = bytes[o];
      if (b0 === ENTRY_END) {
        idx.end = i;
        break;
      }
      if (b0 === ENTRY_FREE) {
        pending = undefined;
        continue;
      }
      used[i] = 1;
      if (isLongNameEntry(bytes, o)) {
        const ord = b0 & 0x1f;
        const units = readLongEntryUnits(bytes, o);
        if ((b0 & LAST_LONG_ENTRY) !== 0) {
          pending = ord >= 1 && ord <= 20 ? { count: ord, expected: ord, checksum: bytes[o + 13], start: i, parts: [] } : undefined;
          if (pending !== undefined) pending.parts[ord - 1] = units;
        } else if (pending !== undefined && ord === pending.expected - 1 && ord >= 1 && bytes[o + 13] === pending.checksum) {
          pending.expected = ord;
          pending.parts[ord - 1] = units;
        } else {
          pending = undefined;
        }
        continue;
      }
      const attr = bytes[o + 11];
      const seq = pending;
      pending = undefined;
      // Volume labels, and the "." and ".." of subdirectories, are not names to list.
      if ((attr & Attr.VolumeId) !== 0 || b0 === 0x2e) continue;
      const entry = readShortEntry(bytes, o, fat32);
      let name: string | undefined;
      let lfnCount = 0;
      if (seq !== undefined && seq.expected === 1 && seq.start + seq.count === i && shortNameChecksum(bytes.subarray(o, o + 11)) === seq.checksum) {
        const units = seq.parts.flat();
        if (units.length > 0 && units.length <= 255 && !units.includes(0x2f)) {
          name = String.fromCharCode(...units);
          lfnCount = seq.count;
        }
      }
      const short = displayShortName(entry.name, entry.ntRes);
      const rec: EntryRecord = { name: name ?? short, shortName: entry.name, slot: i, lfnCount, entry, ino: nextIno(), node: undefined };
      idx.#records.add(rec);
      const key = foldName(rec.name);
      if (!idx.#byName.has(key)) idx.#byName.set(key, rec);
      if (!idx.#byShortKey.has(shortKey(entry.name))) idx.#byShortKey.set(shortKey(entry.name), rec);
      if (name !== undefined) late.push(rec);
    }
    // Short names of long-named entries answer lookups too, unless a long name has them.
    for (const rec of late) {
      const key = foldName(displayShortName(rec.shortName));
      if (!idx.#byName.has(key)) idx.#byName.set(key, rec);
    }
    idx.#advance();
    return idx;
  }

  get size(): number {
    return this.#records.size;
  }

  get capacity(): number {
    return this.#used.length;
  }

  find(name: string): EntryRecord | undefined {
    return this.#byName.get(foldName(name));
  }

  /** Whether a short name is in use, as a short name or as someone's long name. */
  isShortTaken(key: string): boolean {
    return this.shortOwner(key) !== undefined;
  }

  /** The record that uses a short name, as its short name or as its long name. */
  shortOwner(key: string): EntryRecord | undefined {
    const byShort = this.#byShortKey.get(key);
    if (byShort !== undefined) return byShort;
    const bytes = new Uint8Array(11);
    for (let i = 0; i < 11; i++) bytes[i] = key.charCodeAt(i);
    return this.#byName.get(foldName(displayShortName(bytes)));
  }

  /** Names in slot order. */
  list(): EntryRecord[] {
    return [...this.#records].sort((a, b) => a.slot - b.slot);
  }

  /** The first run of `count` free slots, or -1. */
  findFree(count: number): number {
    const used = this.#used;
    let run = 0;
    for (let i = this.#firstFree; i < used.length; i++) {
      if (used[i] === 0) {
        if (++run === count) return i - count + 1;
      } else {
        run = 0;
      }
    }
    return -1;
  }

  /** The directory grew to `capacity` slots (the new ones free). */
  grow(capacity: number): void {
    if (capacity <= this.#used.length) return;
    const next = new Uint8Array(capacity);
    next.set(this.#used);
    this.#used = next;
    this.#advance();
  }

  /** Records a new name; its keys win over any record that had them (one being renamed away). */
  add(rec: EntryRecord): void {
    this.#records.add(rec);
    this.#used.fill(1, rec.slot - rec.lfnCount, rec.slot + 1);
    this.#byName.set(foldName(rec.name), rec);
    this.#byShortKey.set(shortKey(rec.shortName), rec);
    if (rec.lfnCount > 0) this.#byName.set(foldName(displayShortName(rec.shortName)), rec);
    this.#advance();
  }

  remove(rec: EntryRecord): void {
    if (!this.#records.delete(rec)) return;
    this.#used.fill(0, rec.slot - rec.lfnCount, rec.slot + 1);
    for (const key of [foldName(rec.name), foldName(displayShortName(rec.shortName))]) if (this.#byName.get(key) === rec) this.#byName.delete(key);
    const sk = shortKey(rec.shortName);
    if (this.#byShortKey.get(sk) === rec) this.#byShortKey.delete(sk);
    if (rec.slot - rec.lfnCount < this.#firstFree) this.#firstFree = rec.slot - rec.lfnCount;
  }

  #advance(): void {
    while (this.#firstFree < this.#used.length && this.#used[this.#firstFree] !== 0) this.#firstFree++;
  }
}
