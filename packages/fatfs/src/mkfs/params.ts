import { KernelError } from '@uk/hal';
import { FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, FAT32_MAX_CLUSTERS, type FatType } from '../layout/geometry.js';

/** What to make; everything is chosen from the size when left out, as mkfs.fat chooses it. */
export interface FormatChoice {
  /** 12, 16 or 32 (default: FAT32 from 512 MiB, else whichever of FAT12/FAT16 gives more clusters). */
  fatType?: FatType;
  /** Bytes per cluster, a power of two from the sector size to 64 KiB. */
  clusterSize?: number;
  /** Bytes per sector (default 512). */
  sectorSize?: number;
  /** FAT copies (default 2). */
  numFats?: number;
  /** Root directory entries of FAT12/16 (default 512; floppy sizes their own). */
  rootEntries?: number;
}

/** The layout of a volume to be made. */
export interface FormatParams {
  type: FatType;
  sectorSize: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  rootEntries: number;
  totalSectors: number;
  fatSize: number;
  media: number;
  sectorsPerTrack: number;
  heads: number;
  clusterCount: number;
}

/** Floppy formats mkfs.fat recognises by size (KiB): sectors per cluster, root entries, media, geometry. */
const FLOPPIES: Record<number, [number, number, number, number]> = {
  360: [2, 112, 0xfd, 9],
  720: [2, 112, 0xf9, 9],
  1200: [1, 224, 0xf9, 15],
  1440: [1, 224, 0xf0, 18],
  2880: [2, 224, 0xf0, 36],
};

const MiB = 1024 * 1024;
const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** mkfs.fat's (and Microsoft's) FAT32 cluster sizes by volume size, in sectors of 512. */
function fat32Sectors(bytes: number): number {
  const mb = bytes / MiB;
  return mb > 32 * 1024 ? 64 : mb > 16 * 1024 ? 32 : mb > 8 * 1024 ? 16 : mb > 260 ? 8 : 1;
}

interface Layout {
  fatSize: number;
  clusters: number;
}

/** The smallest FAT that covers the clusters left beside it. */
function layout(type: FatType, total: number, fixed: number, spc: number, numFats: number, ss: number, align: boolean): Layout {
  let fatSize = 1;
  for (let i = 0; i < 64; i++) {
    const clusters = Math.floor((total - fixed - numFats * fatSize) / spc);
    if (clusters < 1) return { fatSize, clusters: 0 };
    const bytes = type === 12 ? Math.ceil(((clusters + 2) * 3) / 2) : (clusters + 2) * (type / 8);
    let need = Math.ceil(bytes / ss);
    if (align) need = roundUp(need, spc);
    if (need <= fatSize) return { fatSize, clusters };
    fatSize = need;
  }
  return { fatSize, clusters: 0 };
}

/**
 * The layout for a volume of `bytes`. Like mkfs.fat: FAT32 from 512 MiB up; below, clusters
 * of 2 KiB and larger until FAT12 or FAT16 can number them, FAT16 when it gives more;
 * structures aligned to the cluster size on volumes over 4 MiB; the usual floppy formats.
 */
export function chooseFormat(bytes: number, choice: FormatChoice = {}): FormatParams {
  const ss = choice.sectorSize ?? 512;
  if (![512, 1024, 2048, 4096].includes(ss)) throw new KernelError('EINVAL', `sector size ${ss}: use 512, 1024, 2048 or 4096`);
  const total = Math.floor(bytes / ss);
  const numFats = choice.numFats ?? 2;
  if (!Number.isInteger(numFats) || numFats < 1 || numFats > 4) throw new KernelError('EINVAL', `${numFats} FAT copies: use 1 to 4`);
  let wantSpc: number | undefined;
  if (choice.clusterSize !== undefined) {
    const c = choice.clusterSize;
    if (!Number.isInteger(c) || c < ss || c > 65536 || (c & (c - 1)) !== 0) throw new KernelError('EINVAL', `cluster size ${c}: use a power of two from ${ss} to 65536 bytes`);
    wantSpc = c / ss;
  }
  if (total < 32) throw new KernelError('EINVAL', `${bytes} bytes is too small for a FAT file system`);
  const align = total > 8192;
  const floppy = ss === 512 && choice.fatType === undefined && wantSpc === undefined && bytes % 1024 === 0 ? FLOPPIES[bytes / 1024] : undefined;
  const sectorsPerTrack = floppy?.[3] ?? (bytes >= 512 * MiB ? 63 : 32);
  const heads = floppy !== undefined ? 2 : 64;
  const media = floppy?.[2] ?? 0xf8;
  const type = choice.fatType ?? (bytes >= 512 * MiB ? 32 : undefined);

  if (type === 32) {
    let spc = wantSpc ?? Math.max(1, (fat32Sectors(bytes) * 512) / ss);
    for (;;) {
      const reserved = align ? roundUp(32, spc) : 32;
      const l = layout(32, total, reserved, spc, numFats, ss, align);
      if (l.clusters < 1) throw new KernelError('EINVAL', `${bytes} bytes is too small for FAT32 with ${spc * ss}-byte clusters`);
      if (l.clusters <= FAT32_MAX_CLUSTERS || wantSpc !== undefined || spc >= 128) {
        if (l.clusters > FAT32_MAX_CLUSTERS) throw new KernelError('EINVAL', `${l.clusters} clusters is too many for FAT32; use larger clusters`);
        return { type: 32, sectorSize: ss, sectorsPerCluster: spc, reservedSectors: reserved, numFats, rootEntries: 0, totalSectors: total, fatSize: l.fatSize, media, sectorsPerTrack, heads, clusterCount: l.clusters };
      }
      spc *= 2;
    }
  }

  const firstSpc = wantSpc ?? floppy?.[0] ?? Math.max(1, 2048 / ss);
  for (let spc = firstSpc; spc <= 128 && spc * ss <= 65536; spc *= 2) {
    let rootSectors = Math.ceil(((choice.rootEntries ?? floppy?.[1] ?? 512) * 32) / ss);
    if (align) rootSectors = roundUp(rootSectors, spc);
    const rootEntries = (rootSectors * ss) / 32;
    const reserved = align ? roundUp(1, spc) : 1;
    const fixed = reserved + rootSectors;
    const l12 = layout(12, total, fixed, spc, numFats, ss, align);
    const l16 = layout(16, total, fixed, spc, numFats, ss, align);
    const ok12 = type !== 16 && l12.clusters >= 1 && l12.clusters <= FAT12_MAX_CLUSTERS;
    const ok16 = type !== 12 && l16.clusters > FAT12_MAX_CLUSTERS && l16.clusters <= FAT16_MAX_CLUSTERS;
    if (ok12 || ok16) {
      const pick16 = ok16 && (!ok12 || l16.clusters > l12.clusters);
      const l = pick16 ? l16 : l12;
      return {
        type: pick16 ? 16 : 12,
        sectorSize: ss,
        sectorsPerCluster: spc,
        reservedSectors: reserved,
        numFats,
        rootEntries,
        totalSectors: total,
        fatSize: l.fatSize,
        media,
        sectorsPerTrack,
        heads,
        clusterCount: l.clusters,
      };
    }
    if (wantSpc !== undefined) break;
  }
  const what = type === undefined ? 'FAT12 or FAT16' : `FAT${type}`;
  throw new KernelError('EINVAL', `a volume of ${bytes} bytes cannot be ${what}${wantSpc !== undefined ? ` with ${wantSpc * ss}-byte clusters` : ''}; ${type === 16 && total < 8400 ? 'use FAT12' : 'use FAT32 or another cluster size'}`);
}
