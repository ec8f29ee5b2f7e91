/**
 * A virtio-blk request (virtio 1.2 §5.2.6): a device-readable header, data, and one
 * device-writable status byte at the very end.
 *
 *   struct virtio_blk_req { le32 type; le32 reserved; le64 sector; u8 data[]; u8 status; }
 *
 * `sector` always counts 512-byte sectors, whatever blk_size says.
 */
export const BLK_REQ_HEADER_SIZE = 16;
export const BlkReqField = { type: 0, reserved: 4, sector: 8 } as const;
export const BLK_STATUS_SIZE = 1;
export const SECTOR_SIZE = 512;
export const SECTOR_SHIFT = 9;

export const BlkRequestType = {
  In: 0,
  Out: 1,
  Flush: 4,
  GetId: 8,
  GetLifetime: 10,
  Discard: 11,
  WriteZeroes: 13,
  SecureErase: 14,
} as const;

export const BlkStatus = {
  Ok: 0,
  IoErr: 1,
  Unsupp: 2,
} as const;

/** GET_ID answers with up to this many bytes, NUL-padded. */
export const BLK_ID_BYTES = 20;

/**
 * One range of a DISCARD / WRITE_ZEROES / SECURE_ERASE request:
 *   struct virtio_blk_discard_write_zeroes { le64 sector; le32 num_sectors; le32 flags; }
 */
export const BLK_DISCARD_SEGMENT_SIZE = 16;
export const BlkDiscardField = { sector: 0, numSectors: 8, flags: 12 } as const;
/** flags: for WRITE_ZEROES, the device may deallocate the range. */
export const BLK_WRITE_ZEROES_F_UNMAP = 1;

const TWO32 = 0x1_0000_0000;

export function writeBlkRequestHeader(view: DataView, at: number, type: number, sector: number): void {
  view.setUint32(at + BlkReqField.type, type, true);
  view.setUint32(at + BlkReqField.reserved, 0, true);
  view.setUint32(at + BlkReqField.sector, sector >>> 0, true);
  view.setUint32(at + BlkReqField.sector + 4, Math.floor(sector / TWO32) >>> 0, true);
}

export function blkRequestType(view: DataView, at: number): number {
  return view.getUint32(at + BlkReqField.type, true);
}

/** The header's sector; Infinity when it cannot be a real sector (beyond 2^53). */
export function blkRequestSector(view: DataView, at: number): number {
  const lo = view.getUint32(at + BlkReqField.sector, true);
  const hi = view.getUint32(at + BlkReqField.sector + 4, true);
  return hi < 0x20_0000 ? hi * TWO32 + lo : Number.POSITIVE_INFINITY;
}

export function writeBlkDiscardSegment(view: DataView, at: number, sector: number, numSectors: number, flags: number): void {
  view.setUint32(at + BlkDiscardField.sector, sector >>> 0, true);
  view.setUint32(at + BlkDiscardField.sector + 4, Math.floor(sector / TWO32) >>> 0, true);
  view.setUint32(at + BlkDiscardField.numSectors, numSectors >>> 0, true);
  view.setUint32(at + BlkDiscardField.flags, flags >>> 0, true);
}

export function blkDiscardSector(view: DataView, at: number): number {
  const lo = view.getUint32(at + BlkDiscardField.sector, true);
  const hi = view.getUint32(at + BlkDiscardField.sector + 4, true);
  return hi < 0x20_0000 ? hi * TWO32 + lo : Number.POSITIVE_INFINITY;
}

export function blkDiscardNumSectors(view: DataView, at: number): number {
  return view.getUint32(at + BlkDiscardField.numSectors, true);
}

export function blkDiscardFlags(view: DataView, at: number): number {
  return view.getUint32(at + BlkDiscardField.flags, true);
}
