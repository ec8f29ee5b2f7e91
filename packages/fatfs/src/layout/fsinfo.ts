import { put32, u32 } from './boot-sector.js';

/** FAT32's FSInfo sector (Microsoft FAT specification, §5): hints, never trusted blindly. */
export const FSINFO_LEAD_SIG = 0x41615252;
export const FSINFO_STRUC_SIG = 0x61417272;
export const FSINFO_TRAIL_SIG = 0xaa550000;
/** "Unknown", for both hints. */
export const FSINFO_UNKNOWN = 0xffffffff;

export interface FsInfo {
  /** Free clusters, or FSINFO_UNKNOWN. */
  freeCount: number;
  /** Where to start looking for a free cluster, or FSINFO_UNKNOWN. */
  nextFree: number;
}

/** The hints, or undefined when the signatures are wrong. */
export function parseFsInfo(b: Uint8Array): FsInfo | undefined {
  if (u32(b, 0) !== FSINFO_LEAD_SIG || u32(b, 484) !== FSINFO_STRUC_SIG || u32(b, 508) !== FSINFO_TRAIL_SIG) return undefined;
  return { freeCount: u32(b, 488), nextFree: u32(b, 492) };
}

/** Writes a whole FSInfo sector (the reserved areas zeroed). */
export function writeFsInfo(info: FsInfo, b: Uint8Array): void {
  b.fill(0, 0, 512);
  put32(b, 0, FSINFO_LEAD_SIG);
  put32(b, 484, FSINFO_STRUC_SIG);
  writeFsInfoHints(info, b);
  put32(b, 508, FSINFO_TRAIL_SIG);
}

/** Updates only the two hints of an FSInfo sector. */
export function writeFsInfoHints(info: FsInfo, b: Uint8Array): void {
  put32(b, 488, info.freeCount);
  put32(b, 492, info.nextFree);
}
