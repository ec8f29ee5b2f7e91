/** virtio-blk feature bits (virtio 1.2 §5.2.3). */
export const BlkFeature = {
  /** Legacy: requests may carry barriers. Not offered by modern devices. */
  Barrier: 0,
  /** size_max is the largest single data segment. */
  SizeMax: 1,
  /** seg_max is the most data segments in one request. */
  SegMax: 2,
  Geometry: 4,
  /** The device is read-only. */
  Ro: 5,
  /** blk_size is the logical block size. */
  BlkSize: 6,
  /** Legacy: SCSI passthrough. */
  Scsi: 7,
  /** The device has a cache and understands VIRTIO_BLK_T_FLUSH. */
  Flush: 9,
  Topology: 10,
  ConfigWce: 11,
  Mq: 12,
  Discard: 13,
  WriteZeroes: 14,
  Lifetime: 15,
  SecureErase: 16,
  Zoned: 17,
} as const;
