import { put16, put32, u16, u32 } from './boot-sector.js';

/** Bytes per directory entry. */
export const DIR_ENTRY_SIZE = 32;

/** DIR_Attr bits (Microsoft FAT specification, §6). */
export const Attr = {
  ReadOnly: 0x01,
  Hidden: 0x02,
  System: 0x04,
  VolumeId: 0x08,
  Directory: 0x10,
  Archive: 0x20,
  /** All four low bits: a long-name entry. */
  LongName: 0x0f,
  LongNameMask: 0x3f,
} as const;

/** DIR_Name[0] values. */
export const ENTRY_FREE = 0xe5;
export const ENTRY_END = 0x00;
/** A short name starting with 0xE5 is stored with 0x05 in its first byte. */
export const ENTRY_KANJI_E5 = 0x05;

/** DIR_NTRes bits (Windows NT): the base name / extension is shown in lower case. */
export const NT_LOWER_BASE = 0x08;
export const NT_LOWER_EXT = 0x10;

/** LDIR_Ord bit of the last (first stored) long-name entry. */
export const LAST_LONG_ENTRY = 0x40;
/** UTF-16 units per long-name entry. */
export const LFN_CHARS = 13;
/** Offsets of the 13 UTF-16 units in a long-name entry. */
export const LFN_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30] as const;

/** A short (8.3) directory entry, decoded. */
export interface ShortEntry {
  /** The 11 name bytes as stored (0x05 already turned back into 0xE5). */
  name: Uint8Array;
  attr: number;
  ntRes: number;
  createTenths: number;
  createTime: number;
  createDate: number;
  accessDate: number;
  firstCluster: number;
  writeTime: number;
  writeDate: number;
  size: number;
}

export function isLongNameEntry(b: Uint8Array, o: number): boolean {
  return (b[o + 11] & Attr.LongNameMask) === Attr.LongName;
}

/** Decodes the short entry at `o`. `fat32` keeps the high cluster word (on FAT12/16 it is reserved). */
export function readShortEntry(b: Uint8Array, o: number, fat32: boolean): ShortEntry {
  const name = b.slice(o, o + 11);
  if (name[0] === ENTRY_KANJI_E5) name[0] = 0xe5;
  return {
    name,
    attr: b[o + 11],
    ntRes: b[o + 12],
    createTenths: b[o + 13],
    createTime: u16(b, o + 14),
    createDate: u16(b, o + 16),
    accessDate: u16(b, o + 18),
    firstCluster: (fat32 ? u16(b, o + 20) * 0x10000 : 0) + u16(b, o + 26),
    writeTime: u16(b, o + 22),
    writeDate: u16(b, o + 24),
    size: u32(b, o + 28),
  };
}

/** Encodes a short entry at `o`. */
export function writeShortEntry(e: ShortEntry, b: Uint8Array, o: number): void {
  b.set(e.name, o);
  if (b[o] === 0xe5) b[o] = ENTRY_KANJI_E5;
  b[o + 11] = e.attr;
  b[o + 12] = e.ntRes;
  b[o + 13] = e.createTenths;
  put16(b, o + 14, e.createTime);
  put16(b, o + 16, e.createDate);
  put16(b, o + 18, e.accessDate);
  put16(b, o + 20, (e.firstCluster >>> 16) & 0xffff);
  put16(b, o + 22, e.writeTime);
  put16(b, o + 24, e.writeDate);
  put16(b, o + 26, e.firstCluster & 0xffff);
  put32(b, o + 28, e.size);
}

/** Encodes long-name entry number `ord` (1-based; `last` for the final one) of `units`. */
export function writeLongEntry(units: Uint16Array, ord: number, last: boolean, checksum: number, b: Uint8Array, o: number): void {
  b[o] = ord | (last ? LAST_LONG_ENTRY : 0);
  b[o + 11] = Attr.LongName;
  b[o + 12] = 0;
  b[o + 13] = checksum;
  put16(b, o + 26, 0);
  const base = (ord - 1) * LFN_CHARS;
  for (let k = 0; k < LFN_CHARS; k++) {
    const i = base + k;
    // The name, one NUL if it fits, then 0xFFFF padding.
    const unit = i < units.length ? units[i] : i === units.length ? 0 : 0xffff;
    put16(b, o + LFN_CHAR_OFFSETS[k], unit);
  }
}

/** The 13 units of a long-name entry, cut at the first NUL. */
export function readLongEntryUnits(b: Uint8Array, o: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < LFN_CHARS; k++) {
    const unit = u16(b, o + LFN_CHAR_OFFSETS[k]);
    if (unit === 0) break;
    out.push(unit);
  }
  return out;
}

/** The checksum of an 11-byte short name that its long-name entries carry (§7.2). */
export function shortNameChecksum(name: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >>> 1) + name[i]) & 0xff;
  return sum;
}
