/**
 * The flattened devicetree format (Devicetree Specification, chapter 5): header fields,
 * structure-block tokens and the alignment rules that readers and writers share.
 */

export const FDT_MAGIC = 0xd00dfeed;

/** The version this package writes, and the oldest one whose layout it reads. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMPATIBLE_VERSION = 16;
export const FDT_FIRST_SUPPORTED_VERSION = 16;

/** Header sizes: version 16 ends after size_dt_strings, version 17 adds size_dt_struct. */
export const HEADER_SIZE_V16 = 36;
export const HEADER_SIZE_V17 = 40;

/**
 * Byte offsets of the header fields (all big-endian u32). An enum, not an object: the bundler
 * inlines its members, so a kernel image carries numbers, not a table of names.
 */
export enum Header {
  magic = 0,
  totalSize = 4,
  offDtStruct = 8,
  offDtStrings = 12,
  offMemRsvmap = 16,
  version = 20,
  lastCompVersion = 24,
  bootCpuidPhys = 28,
  sizeDtStrings = 32,
  sizeDtStruct = 36,
}

/** Structure-block tokens (an enum for the same reason). */
export enum Token {
  BeginNode = 0x1,
  EndNode = 0x2,
  Prop = 0x3,
  Nop = 0x4,
  End = 0x9,
}

/** A memory reservation entry: u64 address, u64 size. */
export const RESERVE_ENTRY_SIZE = 16;

/** Deepest nesting a blob may have; bounds the work a hostile blob can cause. */
export const MAX_DEPTH = 64;

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}
