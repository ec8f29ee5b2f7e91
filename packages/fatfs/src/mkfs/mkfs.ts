import type { BlockDevice } from '@uk/blkdev';
import { KernelError } from '@uk/hal';
import { BlockCache } from '@uk/vfs';
import { type BootSector, put32, writeBootSector } from '../layout/boot-sector.js';
import { Attr, writeShortEntry } from '../layout/dir-entry.js';
import { writeFsInfo } from '../layout/fsinfo.js';
import { toDosStamp } from '../time/dos-time.js';
import { chooseFormat, type FormatChoice, type FormatParams } from './params.js';

export interface MkfsOptions extends FormatChoice {
  /** Volume label: up to 11 characters of A-Z, 0-9, space and short-name punctuation. */
  label?: string;
  /** The 32-bit volume serial number (default: from the clock). */
  volumeId?: number;
  /** Milliseconds since the epoch (default Date.now): the label's timestamp and the default volume ID. */
  clock?: () => number;
}

/** A minimal boot program: INT 18h (no bootable disk, try the next device), then halt in a loop. */
const BOOT_CODE = [0xcd, 0x18, 0xeb, 0xfe];

/**
 * Formats `dev` as FAT12, FAT16 or FAT32 (see chooseFormat for how the layout is chosen)
 * and returns the layout. Everything the file system reads before its first file — the
 * reserved sectors, both FATs, the root directory — is written; data clusters are not.
 */
export async function mkfs(dev: BlockDevice, options: MkfsOptions = {}): Promise<FormatParams> {
  if (dev.readOnly) throw new KernelError('EROFS', 'cannot format a read-only device');
  const p = chooseFormat(dev.blockSize * dev.blockCount, options);
  const ss = p.sectorSize;
  const label = checkLabel(options.label);
  const clock = options.clock ?? Date.now;
  const now = clock();
  const volumeId = options.volumeId ?? ((Math.floor(now / 1000) ^ Math.imul(Math.floor(now % 1000), 0x9e3779b1)) >>> 0);
  const fat32 = p.type === 32;
  const rootSectors = Math.ceil((p.rootEntries * 32) / ss);
  const dataSector = p.reservedSectors + p.numFats * p.fatSize + rootSectors;
  const rootCluster = fat32 ? 2 : 0;

  // Zero the metadata (and FAT32's root cluster) on the device first.
  const metaBytes = (dataSector + (fat32 ? p.sectorsPerCluster : 0)) * ss;
  const zeroBlocks = Math.min(Math.ceil(metaBytes / dev.blockSize), dev.blockCount);
  await dev.writeZeroes(0, zeroBlocks);

  const cache = new BlockCache(dev, { capacityBytes: 1024 * 1024 });
  const put = async (at: number, bytes: Uint8Array): Promise<void> => {
    const bs = cache.blockSize;
    for (let done = 0; done < bytes.length; ) {
      const blk = Math.floor((at + done) / bs);
      const o = at + done - blk * bs;
      const n = Math.min(bs - o, bytes.length - done);
      const b = await cache.get(blk);
      b.set(bytes.subarray(done, done + n), o);
      cache.markDirty(blk, true);
      done += n;
    }
  };

  const bs: BootSector = {
    jump: new Uint8Array(fat32 ? [0xeb, 0x58, 0x90] : [0xeb, 0x3c, 0x90]),
    oemName: 'MSWIN4.1',
    bytesPerSector: ss,
    sectorsPerCluster: p.sectorsPerCluster,
    reservedSectors: p.reservedSectors,
    numFats: p.numFats,
    rootEntries: p.rootEntries,
    totalSectors: p.totalSectors,
    media: p.media,
    fatSize: p.fatSize,
    sectorsPerTrack: p.sectorsPerTrack,
    heads: p.heads,
    hiddenSectors: 0,
    fat32Layout: fat32,
    extFlags: 0,
    fsVersion: 0,
    rootCluster,
    fsInfoSector: fat32 ? 1 : 0,
    backupBootSector: fat32 ? 6 : 0,
    driveNumber: 0x80,
    state: 0,
    hasExtendedSignature: true,
    volumeId,
    volumeLabel: label ?? 'NO NAME',
    fsTypeLabel: fat32 ? 'FAT32' : p.type === 16 ? 'FAT16' : 'FAT12',
  };
  const boot = new Uint8Array(ss);
  writeBootSector(bs, boot);
  boot.set(BOOT_CODE, fat32 ? 0x5a : 0x3e);
  await put(0, boot);
  if (fat32) {
    const info = new Uint8Array(ss);
    writeFsInfo({ freeCount: p.clusterCount - 1, nextFree: 2 }, info);
    await put(ss, info);
    await put(6 * ss, boot);
    await put(7 * ss, info);
  }

  // FAT[0] holds the media byte, FAT[1] end-of-chain with the clean bits set; FAT32's root is cluster 2.
  const head = new Uint8Array(12);
  if (p.type === 12) head.set([p.media, 0xff, 0xff]);
  else if (p.type === 16) head.set([p.media, 0xff, 0xff, 0xff]);
  else {
    put32(head, 0, 0x0fffff00 | p.media);
    put32(head, 4, 0x0fffffff);
    put32(head, 8, 0x0fffffff);
  }
  for (let i = 0; i < p.numFats; i++) await put((p.reservedSectors + i * p.fatSize) * ss, head.subarray(0, fat32 ? 12 : p.type === 16 ? 4 : 3));

  if (label !== undefined) {
    const stamp = toDosStamp(now);
    const entry = new Uint8Array(32);
    const name = new Uint8Array(11).fill(0x20);
    for (let i = 0; i < label.length; i++) name[i] = label.charCodeAt(i);
    writeShortEntry(
      { name, attr: Attr.VolumeId, ntRes: 0, createTenths: 0, createTime: 0, createDate: 0, accessDate: 0, firstCluster: 0, writeTime: stamp.time, writeDate: stamp.date, size: 0 },
      entry,
      0,
    );
    await put(fat32 ? dataSector * ss : (p.reservedSectors + p.numFats * p.fatSize) * ss, entry);
  }
  await cache.flush();
  return p;
}

function checkLabel(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  const up = label.toUpperCase();
  if (up.length === 0 || up.length > 11 || !/^[A-Z0-9 $%'\-_@~`!(){}^#&]+$/.test(up) || up.startsWith(' ')) {
    throw new KernelError('EINVAL', `volume label "${label}": 1 to 11 characters of A-Z, 0-9, space and $%'-_@~\`!(){}^#&, not starting with a space`);
  }
  return up.replace(/ +$/, '');
}
