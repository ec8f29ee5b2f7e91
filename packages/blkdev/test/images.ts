import { crc32 } from '../src/index.js';

/** Builders of partition tables for tests: written from the specifications, independently of the parsers. */

export interface MbrEntry {
  type: number;
  first: number;
  count: number;
  boot?: boolean;
}

export function writeMbr(disk: Uint8Array, entries: MbrEntry[], at = 0, signature = 0x12345678): void {
  const v = new DataView(disk.buffer, disk.byteOffset + at, 512);
  v.setUint32(440, signature, true);
  entries.forEach((e, i) => {
    const o = 446 + 16 * i;
    v.setUint8(o, e.boot ? 0x80 : 0);
    v.setUint8(o + 4, e.type);
    v.setUint32(o + 8, e.first, true);
    v.setUint32(o + 12, e.count, true);
  });
  v.setUint8(510, 0x55);
  v.setUint8(511, 0xaa);
}

export interface GptEntry {
  type: Uint8Array;
  first: number;
  last: number;
  name?: string;
}

export const LINUX_FS = guidBytes('0FC63DAF-8483-4772-8E79-3D69D8477DE4');
export const EFI_SYSTEM = guidBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');

export function guidBytes(s: string): Uint8Array {
  const hex = s.replace(/-/g, '');
  const raw = Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  const out = raw.slice();
  out.set([raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]], 0);
  return out;
}

/** A GPT with a protective MBR, primary and backup headers and entry arrays (128 entries of 128 bytes). */
export function writeGpt(disk: Uint8Array, blockSize: number, entries: GptEntry[]): void {
  const blocks = disk.length / blockSize;
  writeMbr(disk, [{ type: 0xee, first: 1, count: Math.min(blocks - 1, 0xffffffff) }]);
  const array = new Uint8Array(128 * 128);
  const av = new DataView(array.buffer);
  entries.forEach((e, i) => {
    const o = i * 128;
    array.set(e.type, o);
    array.set(guidBytes(`00000000-0000-0000-0000-${(i + 1).toString(16).padStart(12, '0')}`), o + 16);
    av.setBigUint64(o + 32, BigInt(e.first), true);
    av.setBigUint64(o + 40, BigInt(e.last), true);
    const name = e.name ?? '';
    for (let k = 0; k < name.length; k++) av.setUint16(o + 56 + 2 * k, name.charCodeAt(k), true);
  });
  const arrayBlocks = array.length / blockSize;
  const firstUsable = 2 + arrayBlocks;
  const lastUsable = blocks - 2 - arrayBlocks;
  const put = (myLba: number, altLba: number, entriesLba: number) => {
    const h = new Uint8Array(blockSize);
    const v = new DataView(h.buffer);
    h.set(new TextEncoder().encode('EFI PART'), 0);
    v.setUint32(8, 0x0001_0000, true);
    v.setUint32(12, 92, true);
    v.setBigUint64(24, BigInt(myLba), true);
    v.setBigUint64(32, BigInt(altLba), true);
    v.setBigUint64(40, BigInt(firstUsable), true);
    v.setBigUint64(48, BigInt(lastUsable), true);
    h.set(guidBytes('11111111-2222-3333-4444-555555555555'), 56);
    v.setBigUint64(72, BigInt(entriesLba), true);
    v.setUint32(80, 128, true);
    v.setUint32(84, 128, true);
    v.setUint32(88, crc32(array), true);
    v.setUint32(16, crc32(h.subarray(0, 92)), true);
    disk.set(h, myLba * blockSize);
    disk.set(array, entriesLba * blockSize);
  };
  put(1, blocks - 1, 2);
  put(blocks - 1, 1, blocks - 1 - arrayBlocks);
}
