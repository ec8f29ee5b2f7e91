import { KernelError } from '@uk/hal';
import type { BlockDevice } from '../device/block-device.js';
import { checkNoOverlap, type PartitionInfo, type PartitionTable } from './table.js';

/** The classic MBR: four 16-byte entries at 446 and the 0x55AA signature at 510. */
const ENTRIES = 446;
const ENTRY_SIZE = 16;
const SIGNATURE = 510;
const DISK_SIGNATURE = 440;
const E = { status: 0, type: 4, lba: 8, count: 12 } as const;

/** Type bytes of extended partitions, which hold a chain of EBRs with logical partitions. */
const EXTENDED = new Set([0x05, 0x0f, 0x85]);
/** The type byte of a protective MBR in front of a GPT. */
export const MBR_TYPE_GPT_PROTECTIVE = 0xee;
/** Logical partitions we follow before calling the chain corrupt (Linux stops near here too). */
const MAX_LOGICAL = 256;

function corrupt(msg: string): KernelError {
  return new KernelError('EIO', `corrupt MBR partition table: ${msg}`);
}

export async function readSector0(dev: BlockDevice, block: number): Promise<Uint8Array> {
  const b = new Uint8Array(dev.blockSize);
  await dev.read(block, b);
  return b;
}

/** Whether block 0 looks like an MBR (signature and boot flags), and whether it protects a GPT. */
export function mbrKind(sector: Uint8Array): 'none' | 'mbr' | 'protective' {
  if (sector.length < 512 || sector[SIGNATURE] !== 0x55 || sector[SIGNATURE + 1] !== 0xaa) return 'none';
  let protective = false;
  for (let i = 0; i < 4; i++) {
    const e = ENTRIES + i * ENTRY_SIZE;
    // A boot sector of a file system also ends in 55 AA; its "entries" have other status bytes.
    if (sector[e + E.status] !== 0 && sector[e + E.status] !== 0x80) return 'none';
    if (sector[e + E.type] === MBR_TYPE_GPT_PROTECTIVE) protective = true;
  }
  return protective ? 'protective' : 'mbr';
}

/** Parses an MBR (with extended partitions). A table that points outside the disk, loops or overlaps is EIO. */
export async function readMbr(dev: BlockDevice): Promise<PartitionTable> {
  const sector = await readSector0(dev, 0);
  if (mbrKind(sector) === 'none') throw corrupt('block 0 has no MBR signature (55 AA) with valid boot flags');
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const parts: PartitionInfo[] = [];
  let extended: { first: number; count: number } | undefined;

  for (let i = 0; i < 4; i++) {
    const e = ENTRIES + i * ENTRY_SIZE;
    const type = sector[e + E.type];
    const first = v.getUint32(e + E.lba, true);
    const count = v.getUint32(e + E.count, true);
    if (type === 0 || count === 0) continue;
    checkInside(dev, i + 1, first, count);
    if (EXTENDED.has(type)) {
      if (extended !== undefined) throw corrupt('more than one extended partition');
      extended = { first, count };
      continue;
    }
    parts.push({ number: i + 1, firstBlock: first, blockCount: count, type: typeName(type), bootable: sector[e + E.status] === 0x80 });
  }

  if (extended !== undefined) await readLogical(dev, extended, parts);
  checkNoOverlap(parts, corrupt);
  return { scheme: 'mbr', diskId: v.getUint32(DISK_SIGNATURE, true).toString(16).padStart(8, '0'), partitions: parts };
}

/** Walks the EBR chain: each EBR's first entry is a logical partition, its second the next EBR. */
async function readLogical(dev: BlockDevice, ext: { first: number; count: number }, parts: PartitionInfo[]): Promise<void> {
  const seen = new Set<number>();
  let ebr = ext.first;
  for (let n = 5; ; n++) {
    if (seen.has(ebr)) throw corrupt(`the extended partition's chain loops back to block ${ebr}`);
    if (n - 5 >= MAX_LOGICAL) throw corrupt(`more than ${MAX_LOGICAL} logical partitions`);
    seen.add(ebr);
    if (ebr < ext.first || ebr >= ext.first + ext.count) throw corrupt(`an EBR at block ${ebr} lies outside the extended partition`);
    const s = await readSector0(dev, ebr);
    if (s[SIGNATURE] !== 0x55 || s[SIGNATURE + 1] !== 0xaa) throw corrupt(`the EBR at block ${ebr} has no 55 AA signature`);
    const v = new DataView(s.buffer, s.byteOffset, s.byteLength);
    const e0 = ENTRIES;
    const e1 = ENTRIES + ENTRY_SIZE;
    const type = s[e0 + E.type];
    const count = v.getUint32(e0 + E.count, true);
    if (type !== 0 && count !== 0) {
      const first = ebr + v.getUint32(e0 + E.lba, true);
      checkInside(dev, n, first, count);
      if (first + count > ext.first + ext.count) throw corrupt(`logical partition ${n} runs past the end of its extended partition`);
      parts.push({ number: n, firstBlock: first, blockCount: count, type: typeName(type), bootable: s[e0 + E.status] === 0x80 });
    }
    const nextType = s[e1 + E.type];
    if (nextType === 0 || !EXTENDED.has(nextType)) return;
    ebr = ext.first + v.getUint32(e1 + E.lba, true);
  }
}

function checkInside(dev: BlockDevice, n: number, first: number, count: number): void {
  if (first === 0) throw corrupt(`partition ${n} starts at block 0, over the table itself`);
  if (first + count > dev.blockCount) {
    throw corrupt(`partition ${n} (blocks ${first}..${first + count - 1}) runs past the end of the disk (${dev.blockCount} blocks)`);
  }
}

function typeName(t: number): string {
  return `0x${t.toString(16).padStart(2, '0')}`;
}
