import { KernelError } from '@uk/hal';

/**
 * The boot sector and BIOS parameter block (Microsoft FAT specification, §3): parsed into a
 * plain record, checked, and written back from one. Offsets live here and nowhere else.
 */
export interface BootSector {
  jump: Uint8Array;
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  /** Root directory entries (FAT12/16); 0 on FAT32. */
  rootEntries: number;
  totalSectors: number;
  media: number;
  /** Sectors per FAT copy. */
  fatSize: number;
  sectorsPerTrack: number;
  heads: number;
  hiddenSectors: number;
  /** BPB_FATSz16 was 0: the FAT32 layout (as Linux and dosfstools decide). */
  fat32Layout: boolean;
  // FAT32 only
  extFlags: number;
  fsVersion: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
  // Extended boot record
  driveNumber: number;
  /** BS_Reserved1: bit 0 is Linux's and dosfstools' "not cleanly unmounted" flag. */
  state: number;
  hasExtendedSignature: boolean;
  volumeId: number;
  volumeLabel: string;
  fsTypeLabel: string;
}

/** Offset of the state byte (BS_Reserved1) in the boot sector. */
export function stateOffset(fat32Layout: boolean): number {
  return fat32Layout ? 65 : 37;
}

/** Bit 0 of the state byte: the file system was not cleanly unmounted. */
export const STATE_DIRTY = 0x01;

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
function putAscii(b: Uint8Array, o: number, n: number, s: string): void {
  for (let i = 0; i < n; i++) b[o + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0x20;
}

export { u16, u32, put16, put32 };

function bad(why: string): KernelError {
  return new KernelError('EIO', `not a FAT file system, or a damaged one: ${why}`);
}

/** Parses a boot sector; EIO when it is not one a FAT driver could use. */
export function parseBootSector(b: Uint8Array): BootSector {
  if (b.length < 512) throw bad(`the boot sector is ${b.length} bytes`);
  if (b[510] !== 0x55 || b[511] !== 0xaa) throw bad('the boot sector has no 0x55 0xAA signature');
  if (b[0] !== 0xeb && b[0] !== 0xe9) throw bad(`the boot sector starts with 0x${b[0].toString(16)}, not a jump instruction`);
  const bytesPerSector = u16(b, 11);
  const sectorsPerCluster = b[13];
  const reservedSectors = u16(b, 14);
  const numFats = b[16];
  const rootEntries = u16(b, 17);
  const total16 = u16(b, 19);
  const media = b[21];
  const fatSize16 = u16(b, 22);
  const total32 = u32(b, 32);
  const fat32Layout = fatSize16 === 0;
  const fatSize = fat32Layout ? u32(b, 36) : fatSize16;
  const ext = fat32Layout ? 64 : 36;
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) throw bad(`${bytesPerSector} bytes per sector (512, 1024, 2048 or 4096 expected)`);
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) throw bad(`${sectorsPerCluster} sectors per cluster is not a power of two`);
  if (reservedSectors === 0) throw bad('no reserved sectors (the boot sector itself is one)');
  if (numFats === 0) throw bad('no FAT copies');
  if (fatSize === 0) throw bad('FATs of zero sectors');
  const totalSectors = total16 !== 0 ? total16 : total32;
  if (totalSectors === 0) throw bad('a total of zero sectors');
  if (fat32Layout && rootEntries !== 0) throw bad(`a FAT32 layout with ${rootEntries} fixed root entries`);
  if (!fat32Layout && rootEntries === 0) throw bad('a FAT12/16 layout without root directory entries');
  return {
    jump: b.slice(0, 3),
    oemName: ascii(b, 3, 8),
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    numFats,
    rootEntries,
    totalSectors,
    media,
    fatSize,
    sectorsPerTrack: u16(b, 24),
    heads: u16(b, 26),
    hiddenSectors: u32(b, 28),
    fat32Layout,
    extFlags: fat32Layout ? u16(b, 40) : 0,
    fsVersion: fat32Layout ? u16(b, 42) : 0,
    rootCluster: fat32Layout ? u32(b, 44) : 0,
    fsInfoSector: fat32Layout ? u16(b, 48) : 0,
    backupBootSector: fat32Layout ? u16(b, 50) : 0,
    driveNumber: b[ext],
    state: b[ext + 1],
    hasExtendedSignature: b[ext + 2] === 0x29,
    volumeId: b[ext + 2] === 0x29 ? u32(b, ext + 3) : 0,
    volumeLabel: b[ext + 2] === 0x29 ? ascii(b, ext + 7, 11) : '',
    fsTypeLabel: b[ext + 2] === 0x29 ? ascii(b, ext + 18, 8) : '',
  };
}

/** Writes `bs` into a sector buffer (at least 512 bytes), with the 0x55 0xAA signature. */
export function writeBootSector(bs: BootSector, b: Uint8Array): void {
  b.set(bs.jump.subarray(0, 3), 0);
  putAscii(b, 3, 8, bs.oemName);
  put16(b, 11, bs.bytesPerSector);
  b[13] = bs.sectorsPerCluster;
  put16(b, 14, bs.reservedSectors);
  b[16] = bs.numFats;
  put16(b, 17, bs.rootEntries);
  put16(b, 19, bs.totalSectors < 0x10000 && !bs.fat32Layout ? bs.totalSectors : 0);
  b[21] = bs.media;
  put16(b, 22, bs.fat32Layout ? 0 : bs.fatSize);
  put16(b, 24, bs.sectorsPerTrack);
  put16(b, 26, bs.heads);
  put32(b, 28, bs.hiddenSectors);
  put32(b, 32, bs.totalSectors < 0x10000 && !bs.fat32Layout ? 0 : bs.totalSectors);
  let ext = 36;
  if (bs.fat32Layout) {
    put32(b, 36, bs.fatSize);
    put16(b, 40, bs.extFlags);
    put16(b, 42, bs.fsVersion);
    put32(b, 44, bs.rootCluster);
    put16(b, 48, bs.fsInfoSector);
    put16(b, 50, bs.backupBootSector);
    b.fill(0, 52, 64);
    ext = 64;
  }
  b[ext] = bs.driveNumber;
  b[ext + 1] = bs.state;
  b[ext + 2] = 0x29;
  put32(b, ext + 3, bs.volumeId);
  putAscii(b, ext + 7, 11, bs.volumeLabel);
  putAscii(b, ext + 18, 8, bs.fsTypeLabel);
  b[510] = 0x55;
  b[511] = 0xaa;
}
