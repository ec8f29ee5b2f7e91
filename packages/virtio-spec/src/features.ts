/**
 * Feature bits are numbered 0..63; they travel through virtio-mmio as two 32-bit words
 * selected by DeviceFeaturesSel / DriverFeaturesSel. Here a feature set is a bigint.
 */

/** Transport and ring features, the same for every device type (virtio 1.2 §6). */
export const Feature = {
  /** Descriptors may point to tables of descriptors (§2.7.5.3). */
  RingIndirectDesc: 28,
  /** used_event / avail_event suppress notifications by index (§2.7.7, §2.7.10). */
  RingEventIdx: 29,
  /** A virtio 1.x device, not a legacy one; a modern driver must accept it. */
  Version1: 32,
  AccessPlatform: 33,
  RingPacked: 34,
  InOrder: 35,
  OrderPlatform: 36,
  SrIov: 37,
  NotificationData: 38,
  NotifConfigData: 39,
  RingReset: 40,
} as const;

/** The feature set holding exactly these bits. */
export function featureBits(...bits: number[]): bigint {
  let f = 0n;
  for (const b of bits) f |= 1n << BigInt(b);
  return f;
}

export function hasFeature(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}

/** Word `sel` (0 = bits 0..31, 1 = bits 32..63) of a feature set, as the register shows it. */
export function featureWord(features: bigint, sel: number): number {
  if (sel < 0 || sel > 1) return 0;
  return Number((features >> BigInt(32 * sel)) & 0xffff_ffffn);
}

/** `features` with word `sel` replaced by `value`. */
export function withFeatureWord(features: bigint, sel: number, value: number): bigint {
  if (sel < 0 || sel > 1) return features;
  const shift = BigInt(32 * sel);
  return (features & ~(0xffff_ffffn << shift)) | (BigInt(value >>> 0) << shift);
}

