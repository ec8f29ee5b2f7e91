/** Virtio device IDs (virtio 1.2 §5). 0 marks an empty virtio-mmio slot. */
export const DeviceId = {
  Invalid: 0,
  Net: 1,
  Block: 2,
  Console: 3,
  Entropy: 4,
  Balloon: 5,
  Scsi: 8,
  NineP: 9,
  Gpu: 16,
  Input: 18,
  Vsock: 19,
  Crypto: 20,
  Iommu: 23,
  Memory: 24,
  Sound: 25,
  Fs: 26,
  Pmem: 27,
  Rpmb: 28,
  I2c: 34,
  Scmi: 32,
  Gpio: 41,
} as const;
export type DeviceId = (typeof DeviceId)[keyof typeof DeviceId];

/** A name a person recognises, for messages ("block", "net", or "device 42"). */
export function deviceIdName(id: number): string {
  for (const [name, value] of Object.entries(DeviceId)) if (value === id) return name.toLowerCase();
  return `device ${id}`;
}
