export { DeviceId, deviceIdName } from './device-id.js';
export { Status, describeStatus } from './status.js';
export { Feature, featureBits, hasFeature, featureWord, withFeatureWord } from './features.js';
export { MmioReg, MMIO_MAGIC, MMIO_VERSION, MMIO_LEGACY_VERSION, MMIO_WINDOW, InterruptBit } from './mmio/registers.js';
export {
  MAX_QUEUE_SIZE,
  DESC_SIZE,
  DescField,
  DescFlag,
  AvailField,
  AVAIL_F_NO_INTERRUPT,
  UsedField,
  USED_ELEM_SIZE,
  USED_F_NO_NOTIFY,
  RingAlign,
  isValidQueueSize,
  descTableBytes,
  availRingBytes,
  usedRingBytes,
  availEntryOffset,
  usedEventOffset,
  usedEntryOffset,
  availEventOffset,
  splitRingLayout,
  type SplitRingLayout,
} from './ring/layout.js';
export { descAddr, descLen, descFlags, descNext, writeDesc, descOffset } from './ring/descriptor.js';
export { needEvent, indexDistance } from './ring/event-index.js';
export { BlkFeature } from './blk/features.js';
export {
  BLK_REQ_HEADER_SIZE,
  BlkReqField,
  BLK_STATUS_SIZE,
  SECTOR_SIZE,
  SECTOR_SHIFT,
  BlkRequestType,
  BlkStatus,
  BLK_ID_BYTES,
  BLK_DISCARD_SEGMENT_SIZE,
  BlkDiscardField,
  BLK_WRITE_ZEROES_F_UNMAP,
  writeBlkRequestHeader,
  blkRequestType,
  blkRequestSector,
  writeBlkDiscardSegment,
  blkDiscardSector,
  blkDiscardNumSectors,
  blkDiscardFlags,
} from './blk/request.js';
export { BlkConfigField, BLK_CONFIG_SIZE, type BlkConfig, encodeBlkConfig, decodeBlkConfig } from './blk/config.js';
export { NetFeature, NetStatus, NetQueue } from './net/features.js';
export {
  NET_HDR_SIZE,
  NET_HDR_SIZE_WITH_HASH,
  NetHdrField,
  NetHdrFlag,
  NetGso,
  type NetHeader,
  newNetHeader,
  readNetHeader,
  writeNetHeader,
  writePlainNetHeader,
} from './net/header.js';
export { NetConfigField, NET_CONFIG_SIZE, NET_SPEED_UNKNOWN, NetDuplex, type NetConfig, encodeNetConfig, decodeNetConfig } from './net/config.js';
