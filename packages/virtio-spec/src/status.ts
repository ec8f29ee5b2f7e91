/** Bits of the device status field (virtio 1.2 §2.1). Writing 0 resets the device. */
export const Status = {
  Acknowledge: 1,
  Driver: 2,
  DriverOk: 4,
  FeaturesOk: 8,
  DeviceNeedsReset: 64,
  Failed: 128,
} as const;

/** "ACKNOWLEDGE|DRIVER|FEATURES_OK", for messages and logs. */
export function describeStatus(status: number): string {
  if (status === 0) return 'RESET';
  const names: string[] = [];
  if (status & Status.Acknowledge) names.push('ACKNOWLEDGE');
  if (status & Status.Driver) names.push('DRIVER');
  if (status & Status.FeaturesOk) names.push('FEATURES_OK');
  if (status & Status.DriverOk) names.push('DRIVER_OK');
  if (status & Status.DeviceNeedsReset) names.push('DEVICE_NEEDS_RESET');
  if (status & Status.Failed) names.push('FAILED');
  const rest = status & ~0xcf;
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}
