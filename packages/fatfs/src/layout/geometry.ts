import { KernelError } from '@uk/hal';
import type { BootSector } from './boot-sector.js';

export type FatType = 12 | 16 | 32;

/** Cluster counts below these make FAT12 / FAT16 (Microsoft FAT specification, §3.5). */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
/** The largest cluster number FAT32 can address (28 bits, less the reserved values). */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;

/** Where everything is, in bytes from the start of the volume. */
export interface Geometry {
  readonly type: FatType;
  readonly sectorSize: number;
  readonly clusterSize: number;
  readonly totalBytes: number;
  readonly fatOffset: number;
  /** Bytes of one FAT copy. */
  readonly fatBytes: number;
  readonly numFats: number;
  /** The FAT copy reads come from; writes go to all when `mirrored`. */
  readonly activeFat: number;
  readonly mirrored: boolean;
  /** The fixed root directory of FAT12/16 (0 bytes on FAT32). */
  readonly rootDirOffset: number;
  readonly rootDirBytes: number;
  readonly dataOffset: number;
  /** Data clusters: valid cluster numbers are 2 .. clusterCount + 1. */
  readonly clusterCount: number;
  /** FAT32's root directory cluster; 0 on FAT12/16. */
  readonly rootCluster: number;
  readonly fsInfoOffset: number;
}

/** The FAT type a number of data clusters makes (Microsoft's rule). */
export function fatTypeFor(clusters: number): FatType {
  return clusters <= FAT12_MAX_CLUSTERS ? 12 : clusters <= FAT16_MAX_CLUSTERS ? 16 : 32;
}

function bad(why: string): KernelError {
  return new KernelError('EIO', `damaged FAT file system: ${why}`);
}

/**
 * The layout a boot sector describes, checked against itself and against the device's
 * size. The type comes from the cluster count, except that a FAT32 layout (BPB_FATSz16 = 0)
 * is FAT32 whatever its size, as Linux and dosfstools read it.
 */
export function geometryOf(bs: BootSector, deviceBytes: number): Geometry {
  const ss = bs.bytesPerSector;
  const rootDirSectors = Math.ceil((bs.rootEntries * 32) / ss);
  const fatOffset = bs.reservedSectors * ss;
  const dataSector = bs.reservedSectors + bs.numFats * bs.fatSize + rootDirSectors;
  if (dataSector >= bs.totalSectors) throw bad(`the data area starts at sector ${dataSector}, past the end (${bs.totalSectors} sectors)`);
  const clusterCount = Math.floor((bs.totalSectors - dataSector) / bs.sectorsPerCluster);
  if (clusterCount < 1) throw bad('there is no room for a single cluster');
  const type: FatType = bs.fat32Layout ? 32 : fatTypeFor(clusterCount);
  if (!bs.fat32Layout && type === 32) throw bad(`${clusterCount} clusters need FAT32, but the boot sector has a FAT12/16 layout`);
  if (type === 32 && clusterCount > FAT32_MAX_CLUSTERS) throw bad(`${clusterCount} clusters is more than FAT32 can number`);
  const entryBits = type === 12 ? 12 : type === 16 ? 16 : 32;
  const fatBytes = bs.fatSize * ss;
  if (Math.floor((fatBytes * 8) / entryBits) < clusterCount + 2) {
    throw bad(`a FAT of ${bs.fatSize} sectors has no room for the entries of ${clusterCount} clusters`);
  }
  const totalBytes = bs.totalSectors * ss;
  if (totalBytes > deviceBytes) throw bad(`the file system is ${totalBytes} bytes but the device holds only ${deviceBytes}`);
  const mirrored = type !== 32 || (bs.extFlags & 0x80) === 0;
  const activeFat = mirrored ? 0 : bs.extFlags & 0x0f;
  if (activeFat >= bs.numFats) throw bad(`the active FAT is copy ${activeFat} of ${bs.numFats}`);
  if (type === 32 && (bs.rootCluster < 2 || bs.rootCluster > clusterCount + 1)) throw bad(`the root directory starts at cluster ${bs.rootCluster}, outside 2..${clusterCount + 1}`);
  const fsInfoOk = type === 32 && bs.fsInfoSector > 0 && bs.fsInfoSector < bs.reservedSectors;
  return {
    type,
    sectorSize: ss,
    clusterSize: ss * bs.sectorsPerCluster,
    totalBytes,
    fatOffset,
    fatBytes,
    numFats: bs.numFats,
    activeFat,
    mirrored,
    rootDirOffset: type === 32 ? 0 : fatOffset + bs.numFats * fatBytes,
    rootDirBytes: type === 32 ? 0 : bs.rootEntries * 32,
    dataOffset: dataSector * ss,
    clusterCount,
    rootCluster: type === 32 ? bs.rootCluster : 0,
    fsInfoOffset: fsInfoOk ? bs.fsInfoSector * ss : 0,
  };
}

/** Byte offset of a data cluster. */
export function clusterOffset(g: Geometry, cluster: number): number {
  return g.dataOffset + (cluster - 2) * g.clusterSize;
}
