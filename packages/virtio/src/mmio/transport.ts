import type { Mmio } from '@uk/hal';
import { featureWord, MmioReg, Status } from '@uk/virtio-spec';

/**
 * The virtio-mmio register file of one device (virtio 1.2 §4.2.2), seen from the driver. Only
 * register access lives here; the initialisation sequence is in VirtioMmioDevice.
 */
export class MmioTransport {
  constructor(
    private readonly mmio: Mmio,
    readonly base: number,
  ) {}

  read(reg: number): number {
    return this.mmio.read32(this.base + reg) >>> 0;
  }

  write(reg: number, value: number): void {
    this.mmio.write32(this.base + reg, value >>> 0);
  }

  get magic(): number {
    return this.read(MmioReg.MagicValue);
  }

  get version(): number {
    return this.read(MmioReg.Version);
  }

  get deviceId(): number {
    return this.read(MmioReg.DeviceId);
  }

  get vendorId(): number {
    return this.read(MmioReg.VendorId);
  }

  get status(): number {
    return this.read(MmioReg.Status) & 0xff;
  }

  set status(value: number) {
    this.write(MmioReg.Status, value & 0xff);
  }

  /** Sets more status bits (the driver never clears one except by reset). */
  addStatus(bits: number): void {
    this.status = this.status | bits;
  }

  deviceFeatures(): bigint {
    this.write(MmioReg.DeviceFeaturesSel, 0);
    const lo = this.read(MmioReg.DeviceFeatures);
    this.write(MmioReg.DeviceFeaturesSel, 1);
    const hi = this.read(MmioReg.DeviceFeatures);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  setDriverFeatures(features: bigint): void {
    this.write(MmioReg.DriverFeaturesSel, 0);
    this.write(MmioReg.DriverFeatures, featureWord(features, 0));
    this.write(MmioReg.DriverFeaturesSel, 1);
    this.write(MmioReg.DriverFeatures, featureWord(features, 1));
  }

  /** The largest size queue `index` may have; 0 when the queue does not exist. */
  queueMax(index: number): number {
    this.write(MmioReg.QueueSel, index);
    return this.read(MmioReg.QueueNumMax);
  }

  queueReady(index: number): boolean {
    this.write(MmioReg.QueueSel, index);
    return this.read(MmioReg.QueueReady) !== 0;
  }

  /** Tells the device where queue `index` lives and enables it. */
  enableQueue(index: number, size: number, desc: number, driver: number, device: number): void {
    this.write(MmioReg.QueueSel, index);
    this.write(MmioReg.QueueNum, size);
    this.write64(MmioReg.QueueDescLow, desc);
    this.write64(MmioReg.QueueDriverLow, driver);
    this.write64(MmioReg.QueueDeviceLow, device);
    this.write(MmioReg.QueueReady, 1);
  }

  notify(index: number): void {
    this.write(MmioReg.QueueNotify, index);
  }

  interruptStatus(): number {
    return this.read(MmioReg.InterruptStatus);
  }

  ackInterrupt(bits: number): void {
    this.write(MmioReg.InterruptAck, bits);
  }

  configGeneration(): number {
    return this.read(MmioReg.ConfigGeneration);
  }

  /** Configuration space reads, each of its field's own width (§4.2.2.2). */
  config8(offset: number): number {
    return this.mmio.read8(this.base + MmioReg.Config + offset) & 0xff;
  }

  config16(offset: number): number {
    return this.mmio.read16(this.base + MmioReg.Config + offset) & 0xffff;
  }

  config32(offset: number): number {
    return this.mmio.read32(this.base + MmioReg.Config + offset) >>> 0;
  }

  /** A 64-bit field as two 32-bit reads; Infinity beyond 2^53 (no real device has such a field value). */
  config64(offset: number): number {
    const lo = this.config32(offset);
    const hi = this.config32(offset + 4);
    return hi < 0x20_0000 ? hi * 0x1_0000_0000 + lo : Number.POSITIVE_INFINITY;
  }

  configWrite8(offset: number, value: number): void {
    this.mmio.write8(this.base + MmioReg.Config + offset, value & 0xff);
  }

  private write64(lowReg: number, value: number): void {
    this.write(lowReg, value >>> 0);
    this.write(lowReg + 4, Math.floor(value / 0x1_0000_0000) >>> 0);
  }

  /** Whether the device has set DEVICE_NEEDS_RESET. */
  needsReset(): boolean {
    return (this.status & Status.DeviceNeedsReset) !== 0;
  }
}
