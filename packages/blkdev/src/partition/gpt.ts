import { KernelError } from '@uk/hal';
import type { BlockDevice } from '../device/block-device.js';
import { crc32 } from './crc32.js';
import { formatGuid, isZeroGuid } from './guid.js';
import { checkNoOverlap, type PartitionInfo, type PartitionTable } from './table.js';

/** The GPT header (UEFI 2.10 §5.3.2), at block 1 and, as a backup, at the last block. */
const H = {
  signature: 0,
  revision: 8,
  headerSize: 12,
  headerCrc: 16,
  myLba: 24,
  alternateLba: 32,
  firstUsable: 40,
  lastUsable: 48,
  diskGuid: 56,
  entriesLba: 72,
  entryCount: 80,
  entrySize: 84,
  entriesCrc: 88,
} as const;
const HEADER_MIN = 92;
const SIGNATURE = 'EFI PART';
/** One partition entry (§5.3.3); entries are 128 × 2^n bytes. */
const P = { type: 0, guid: 16, first: 32, last: 40, attributes: 48, name: 56 } as const;
const NAME_BYTES = 72;
/** More entry bytes than any real table has (the usual array is 16 KiB). */
const MAX_ENTRY_BYTES = 1 << 20;

function corrupt(msg: string): KernelError {
  return new KernelError('EIO', `corrupt GPT: ${msg}`);
}

function u64(v: DataView, at: number, what: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x20_0000) throw corrupt(`${what} ${hi * 2 ** 32 + lo} is beyond any disk`);
  return hi * 2 ** 32 + lo;
}

interface Header {
  firstUsable: number;
  lastUsable: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

/** Checks the header at `lba`; returns it or a reason it is bad. */
async function readHeader(dev: BlockDevice, lba: number): Promise<Header | string> {
  const b = new Uint8Array(dev.blockSize);
  await dev.read(lba, b);
  const v = new DataView(b.buffer);
  if (String.fromCharCode(...b.subarray(0, 8)) !== SIGNATURE) return `no "EFI PART" signature at block ${lba}`;
  const size = v.getUint32(H.headerSize, true);
  if (size < HEADER_MIN || size > dev.blockSize) return `header size ${size} at block ${lba} is not between ${HEADER_MIN} and ${dev.blockSize}`;
  const stored = v.getUint32(H.headerCrc, true);
  const copy = b.slice(0, size);
  new DataView(copy.buffer).setUint32(H.headerCrc, 0, true);
  if (crc32(copy) !== stored) return `header CRC mismatch at block ${lba}`;
  try {
    if (u64(v, H.myLba, 'MyLBA') !== lba) return `the header at block ${lba} says it is elsewhere`;
    const h: Header = {
      firstUsable: u64(v, H.firstUsable, 'FirstUsableLBA'),
      lastUsable: u64(v, H.lastUsable, 'LastUsableLBA'),
      diskGuid: formatGuid(b.subarray(H.diskGuid, H.diskGuid + 16)),
      entriesLba: u64(v, H.entriesLba, 'PartitionEntryLBA'),
      entryCount: v.getUint32(H.entryCount, true),
      entrySize: v.getUint32(H.entrySize, true),
      entriesCrc: v.getUint32(H.entriesCrc, true),
    };
    if (h.entrySize < 128 || h.entrySize % 8 !== 0 || (h.entrySize & (h.entrySize - 1)) !== 0) return `entry size ${h.entrySize} is not 128 × 2^n`;
    if (h.entryCount * h.entrySize > MAX_ENTRY_BYTES) return `${h.entryCount} entries of ${h.entrySize} bytes is more than ${MAX_ENTRY_BYTES} bytes`;
    if (h.firstUsable > h.lastUsable || h.lastUsable >= dev.blockCount) {
      return `usable blocks ${h.firstUsable}..${h.lastUsable} do not fit the disk (${dev.blockCount} blocks)`;
    }
    const entryBlocks = Math.ceil((h.entryCount * h.entrySize) / dev.blockSize);
    if (h.entriesLba < 1 || h.entriesLba + entryBlocks > dev.blockCount) return `the entry array at block ${h.entriesLba} runs past the end of the disk`;
    return h;
  } catch (e) {
    if (e instanceof KernelError) return e.message;
    throw e;
  }
}

/**
 * Parses a GUID partition table: the primary header at block 1, or the backup at the last
 * block if the primary is damaged. Both damaged, entries that fail their CRC, partitions
 * outside the usable area or overlapping: EIO.
 */
export async function readGpt(dev: BlockDevice): Promise<PartitionTable> {
  if (dev.blockCount < 3) throw corrupt(`a disk of ${dev.blockCount} blocks cannot hold a GPT`);
  const primary = await readHeader(dev, 1);
  let header: Header;
  let entries: Uint8Array | string;
  if (typeof primary !== 'string') {
    header = primary;
    entries = await readEntries(dev, header);
    if (typeof entries === 'string') {
      const backup = await readHeader(dev, dev.blockCount - 1);
      if (typeof backup === 'string') throw corrupt(`${entries}; the backup header is bad too: ${backup}`);
      header = backup;
      entries = await readEntries(dev, header);
    }
  } else {
    const backup = await readHeader(dev, dev.blockCount - 1);
    if (typeof backup === 'string') throw corrupt(`${primary}; the backup header is bad too: ${backup}`);
    header = backup;
    entries = await readEntries(dev, header);
  }
  if (typeof entries === 'string') throw corrupt(entries);

  const v = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const parts: PartitionInfo[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const e = i * header.entrySize;
    const type = entries.subarray(e + P.type, e + P.type + 16);
    if (isZeroGuid(type)) continue;
    const first = u64(v, e + P.first, `partition ${i + 1}'s first block`);
    const last = u64(v, e + P.last, `partition ${i + 1}'s last block`);
    if (first > last || first < header.firstUsable || last > header.lastUsable) {
      throw corrupt(`partition ${i + 1} (blocks ${first}..${last}) lies outside the usable area ${header.firstUsable}..${header.lastUsable}`);
    }
    parts.push({
      number: i + 1,
      firstBlock: first,
      blockCount: last - first + 1,
      type: formatGuid(type),
      guid: formatGuid(entries.subarray(e + P.guid, e + P.guid + 16)),
      name: utf16Name(entries.subarray(e + P.name, e + P.name + NAME_BYTES)),
    });
  }
  checkNoOverlap(parts, corrupt);
  return { scheme: 'gpt', diskId: header.diskGuid, partitions: parts };
}

async function readEntries(dev: BlockDevice, h: Header): Promise<Uint8Array | string> {
  const bytes = h.entryCount * h.entrySize;
  const buf = new Uint8Array(Math.ceil(bytes / dev.blockSize) * dev.blockSize);
  if (buf.length > 0) await dev.read(h.entriesLba, buf);
  const entries = buf.subarray(0, bytes);
  if (crc32(entries) !== h.entriesCrc) return `the partition entry array at block ${h.entriesLba} fails its CRC`;
  return entries;
}

function utf16Name(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = b[i] | (b[i + 1] << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
