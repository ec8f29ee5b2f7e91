import { FdtError } from '../error.js';
import { be32 } from './endian.js';
import { FDT_FIRST_SUPPORTED_VERSION, FDT_MAGIC, FDT_VERSION, HEADER_SIZE_V16, HEADER_SIZE_V17, Header, RESERVE_ENTRY_SIZE } from './layout.js';

/** The header of a blob, checked against the blob it came from. */
export interface FdtHeader {
  readonly totalSize: number;
  readonly version: number;
  readonly lastCompatibleVersion: number;
  readonly bootCpuId: number;
  readonly memRsvmapOffset: number;
  readonly structOffset: number;
  /** Bytes of the structure block (for version 16, everything from its start to totalsize). */
  readonly structSize: number;
  readonly stringsOffset: number;
  readonly stringsSize: number;
}

function word(bytes: Uint8Array, field: number, headerBytes: number): number {
  if (bytes.length < field + 4) throw new FdtError('FDT_TRUNCATED', `${bytes.length} bytes end inside the ${headerBytes}-byte header`, bytes.length);
  return be32(bytes, field);
}

function checkMagic(bytes: Uint8Array): void {
  const magic = word(bytes, Header.magic, HEADER_SIZE_V16);
  if (magic !== FDT_MAGIC) throw new FdtError('FDT_BAD_MAGIC', `magic is 0x${magic.toString(16)}, not 0xd00dfeed`, 0);
}

/**
 * The blob's total size from its header, for a caller that has only a pointer to the blob
 * and must learn how many bytes to take. Checks the magic and that the size can hold a header.
 */
export function readFdtTotalSize(bytes: Uint8Array): number {
  checkMagic(bytes);
  const totalSize = word(bytes, Header.totalSize, HEADER_SIZE_V16);
  if (totalSize < HEADER_SIZE_V16) throw new FdtError('FDT_BAD_OFFSET', `totalsize ${totalSize} is smaller than a header`, Header.totalSize);
  return totalSize;
}

/**
 * Reads and validates the header: every block named by an offset and a size must lie inside
 * the blob, after the header, and be aligned as the specification requires.
 */
export function readHeader(bytes: Uint8Array): FdtHeader {
  checkMagic(bytes);
  const version = word(bytes, Header.version, HEADER_SIZE_V16);
  const lastCompatibleVersion = word(bytes, Header.lastCompVersion, HEADER_SIZE_V16);
  if (version < FDT_FIRST_SUPPORTED_VERSION || lastCompatibleVersion > FDT_VERSION || version < lastCompatibleVersion) {
    throw new FdtError('FDT_BAD_VERSION', `version ${version} (last compatible ${lastCompatibleVersion}): only 16 and 17 are read`, Header.version);
  }
  const headerSize = version >= 17 ? HEADER_SIZE_V17 : HEADER_SIZE_V16;
  const field = (f: number) => word(bytes, f, headerSize);
  const totalSize = field(Header.totalSize);
  if (totalSize > bytes.length) throw new FdtError('FDT_TRUNCATED', `totalsize ${totalSize} but only ${bytes.length} bytes given`, Header.totalSize);

  const memRsvmapOffset = field(Header.offMemRsvmap);
  const structOffset = field(Header.offDtStruct);
  const structSize = version >= 17 ? field(Header.sizeDtStruct) : totalSize - structOffset;
  const stringsOffset = field(Header.offDtStrings);
  const stringsSize = field(Header.sizeDtStrings);
  const block = (name: string, at: number, off: number, size: number, align: number) => {
    if (off < headerSize || off + size > totalSize || off % align !== 0) {
      throw new FdtError('FDT_BAD_OFFSET', `${name} block at 0x${off.toString(16)} (${size} bytes) is outside the ${totalSize}-byte blob or misaligned`, at);
    }
  };
  block('memory reservation', Header.offMemRsvmap, memRsvmapOffset, RESERVE_ENTRY_SIZE, 8);
  block('structure', Header.offDtStruct, structOffset, structSize, 4);
  block('strings', Header.offDtStrings, stringsOffset, stringsSize, 1);
  return {
    totalSize,
    version,
    lastCompatibleVersion,
    bootCpuId: field(Header.bootCpuidPhys),
    memRsvmapOffset,
    structOffset,
    structSize,
    stringsOffset,
    stringsSize,
  };
}
