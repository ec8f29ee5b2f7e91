/**
 * The virtio-blk configuration space (virtio 1.2 §5.2.4), little-endian:
 *
 *   le64 capacity;            // in 512-byte sectors
 *   le32 size_max; le32 seg_max;
 *   struct { le16 cylinders; u8 heads; u8 sectors; } geometry;
 *   le32 blk_size;
 *   struct { u8 physical_block_exp; u8 alignment_offset; le16 min_io_size; le32 opt_io_size; } topology;
 *   u8 writeback; u8 unused0; le16 num_queues;
 *   le32 max_discard_sectors; le32 max_discard_seg; le32 discard_sector_alignment;
 *   le32 max_write_zeroes_sectors; le32 max_write_zeroes_seg; u8 write_zeroes_may_unmap; u8 unused1[3];
 *   le32 max_secure_erase_sectors; le32 max_secure_erase_seg; le32 secure_erase_sector_alignment;
 */
export const BlkConfigField = {
  capacity: 0,
  sizeMax: 8,
  segMax: 12,
  cylinders: 16,
  heads: 18,
  sectors: 19,
  blkSize: 20,
  physicalBlockExp: 24,
  alignmentOffset: 25,
  minIoSize: 26,
  optIoSize: 28,
  writeback: 32,
  numQueues: 34,
  maxDiscardSectors: 36,
  maxDiscardSeg: 40,
  discardSectorAlignment: 44,
  maxWriteZeroesSectors: 48,
  maxWriteZeroesSeg: 52,
  writeZeroesMayUnmap: 56,
  maxSecureEraseSectors: 60,
  maxSecureEraseSeg: 64,
  secureEraseSectorAlignment: 68,
} as const;

/** Bytes of the configuration space up to and including the secure-erase fields. */
export const BLK_CONFIG_SIZE = 72;

export interface BlkConfig {
  /** 512-byte sectors. */
  capacity: number;
  sizeMax: number;
  segMax: number;
  geometry: { cylinders: number; heads: number; sectors: number };
  blkSize: number;
  topology: { physicalBlockExp: number; alignmentOffset: number; minIoSize: number; optIoSize: number };
  writeback: number;
  numQueues: number;
  maxDiscardSectors: number;
  maxDiscardSeg: number;
  discardSectorAlignment: number;
  maxWriteZeroesSectors: number;
  maxWriteZeroesSeg: number;
  writeZeroesMayUnmap: number;
}

const TWO32 = 0x1_0000_0000;

/** Builds the configuration space bytes a device presents. Fields left out are 0. */
export function encodeBlkConfig(c: Partial<BlkConfig> & { capacity: number }): Uint8Array {
  const bytes = new Uint8Array(BLK_CONFIG_SIZE);
  const v = new DataView(bytes.buffer);
  const F = BlkConfigField;
  v.setUint32(F.capacity, c.capacity >>> 0, true);
  v.setUint32(F.capacity + 4, Math.floor(c.capacity / TWO32) >>> 0, true);
  v.setUint32(F.sizeMax, c.sizeMax ?? 0, true);
  v.setUint32(F.segMax, c.segMax ?? 0, true);
  v.setUint16(F.cylinders, c.geometry?.cylinders ?? 0, true);
  v.setUint8(F.heads, c.geometry?.heads ?? 0);
  v.setUint8(F.sectors, c.geometry?.sectors ?? 0);
  v.setUint32(F.blkSize, c.blkSize ?? 0, true);
  v.setUint8(F.physicalBlockExp, c.topology?.physicalBlockExp ?? 0);
  v.setUint8(F.alignmentOffset, c.topology?.alignmentOffset ?? 0);
  v.setUint16(F.minIoSize, c.topology?.minIoSize ?? 0, true);
  v.setUint32(F.optIoSize, c.topology?.optIoSize ?? 0, true);
  v.setUint8(F.writeback, c.writeback ?? 0);
  v.setUint16(F.numQueues, c.numQueues ?? 0, true);
  v.setUint32(F.maxDiscardSectors, c.maxDiscardSectors ?? 0, true);
  v.setUint32(F.maxDiscardSeg, c.maxDiscardSeg ?? 0, true);
  v.setUint32(F.discardSectorAlignment, c.discardSectorAlignment ?? 0, true);
  v.setUint32(F.maxWriteZeroesSectors, c.maxWriteZeroesSectors ?? 0, true);
  v.setUint32(F.maxWriteZeroesSeg, c.maxWriteZeroesSeg ?? 0, true);
  v.setUint8(F.writeZeroesMayUnmap, c.writeZeroesMayUnmap ?? 0);
  return bytes;
}

/** Reads a configuration space (at least BLK_CONFIG_SIZE bytes; missing bytes read as 0). */
export function decodeBlkConfig(bytes: Uint8Array): BlkConfig {
  const b = new Uint8Array(BLK_CONFIG_SIZE);
  b.set(bytes.subarray(0, BLK_CONFIG_SIZE));
  const v = new DataView(b.buffer);
  const F = BlkConfigField;
  const hi = v.getUint32(F.capacity + 4, true);
  return {
    capacity: hi < 0x20_0000 ? hi * TWO32 + v.getUint32(F.capacity, true) : Number.POSITIVE_INFINITY,
    sizeMax: v.getUint32(F.sizeMax, true),
    segMax: v.getUint32(F.segMax, true),
    geometry: { cylinders: v.getUint16(F.cylinders, true), heads: v.getUint8(F.heads), sectors: v.getUint8(F.sectors) },
    blkSize: v.getUint32(F.blkSize, true),
    topology: {
      physicalBlockExp: v.getUint8(F.physicalBlockExp),
      alignmentOffset: v.getUint8(F.alignmentOffset),
      minIoSize: v.getUint16(F.minIoSize, true),
      optIoSize: v.getUint32(F.optIoSize, true),
    },
    writeback: v.getUint8(F.writeback),
    numQueues: v.getUint16(F.numQueues, true),
    maxDiscardSectors: v.getUint32(F.maxDiscardSectors, true),
    maxDiscardSeg: v.getUint32(F.maxDiscardSeg, true),
    discardSectorAlignment: v.getUint32(F.discardSectorAlignment, true),
    maxWriteZeroesSectors: v.getUint32(F.maxWriteZeroesSectors, true),
    maxWriteZeroesSeg: v.getUint32(F.maxWriteZeroesSeg, true),
    writeZeroesMayUnmap: v.getUint8(F.writeZeroesMayUnmap),
  };
}
