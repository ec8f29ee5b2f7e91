import type { VirtioMmioDevice } from '@uk/virtio';
import { BlkConfigField as F, BlkFeature } from '@uk/virtio-spec';

/** The parts of the virtio-blk configuration the driver uses; fields of features not negotiated are 0. */
export interface BlkDeviceConfig {
  /** 512-byte sectors. */
  capacity: number;
  sizeMax: number;
  segMax: number;
  blkSize: number;
  maxDiscardSectors: number;
  maxDiscardSeg: number;
  discardSectorAlignment: number;
  maxWriteZeroesSectors: number;
  maxWriteZeroesSeg: number;
}

/** Reads the configuration space, each field at its own width, retried until the generation holds still. */
export function readBlkConfig(dev: VirtioMmioDevice): BlkDeviceConfig {
  const t = dev.transport;
  const discard = dev.has(BlkFeature.Discard);
  const zeroes = dev.has(BlkFeature.WriteZeroes);
  return dev.stableConfig(() => ({
    capacity: t.config64(F.capacity),
    sizeMax: dev.has(BlkFeature.SizeMax) ? t.config32(F.sizeMax) : 0,
    segMax: dev.has(BlkFeature.SegMax) ? t.config32(F.segMax) : 0,
    blkSize: dev.has(BlkFeature.BlkSize) ? t.config32(F.blkSize) : 0,
    maxDiscardSectors: discard ? t.config32(F.maxDiscardSectors) : 0,
    maxDiscardSeg: discard ? t.config32(F.maxDiscardSeg) : 0,
    discardSectorAlignment: discard ? t.config32(F.discardSectorAlignment) : 0,
    maxWriteZeroesSectors: zeroes ? t.config32(F.maxWriteZeroesSectors) : 0,
    maxWriteZeroesSeg: zeroes ? t.config32(F.maxWriteZeroesSeg) : 0,
  }));
}
