/**
 * The virtio-mmio register file, version 2 (virtio 1.2 §4.2.2). Offsets are from the
 * device's base; every register below `Config` is 32 bits wide and accessed as such.
 */
export const MmioReg = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceId: 0x008,
  VendorId: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptAck: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  ShmSel: 0x0ac,
  ShmLenLow: 0x0b0,
  ShmLenHigh: 0x0b4,
  ShmBaseLow: 0x0b8,
  ShmBaseHigh: 0x0bc,
  QueueReset: 0x0c0,
  ConfigGeneration: 0x0fc,
  /** Device-specific configuration space starts here. */
  Config: 0x100,
} as const;

/** "virt" in little-endian: the value of MagicValue. */
export const MMIO_MAGIC = 0x7472_6976;
/** The modern (virtio 1.x) virtio-mmio interface; 1 is the legacy one. */
export const MMIO_VERSION = 2;
export const MMIO_LEGACY_VERSION = 1;
/** Bytes of one virtio-mmio window on the virt board. */
export const MMIO_WINDOW = 0x1000;

/** Bits of InterruptStatus / InterruptACK. */
export const InterruptBit = {
  /** The device used a buffer in at least one queue. */
  UsedBuffer: 1,
  /** The configuration space changed (or the device needs a reset). */
  ConfigChange: 2,
} as const;
