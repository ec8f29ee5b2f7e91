import {
  Feature,
  featureBits,
  featureWord,
  hasFeature,
  InterruptBit,
  MMIO_MAGIC,
  MMIO_VERSION,
  MmioReg,
  Status,
  withFeatureWord,
} from '@uk/virtio-spec';
import type { MmioDevice } from '../../bus/device.js';
import type { IrqLine } from '../../devices/plic.js';
import { DescriptorChain } from '../queue/chain.js';
import { DeviceQueue } from '../queue/device-queue.js';
import { VirtioFault } from '../queue/fault.js';
import { GuestMemory } from '../queue/guest-memory.js';
import type { VirtioBackend, VirtioDeviceHandle } from './backend.js';

/** "uk" as the vendor ID, as QEMU answers "QEMU". */
export const UK_VENDOR_ID = 0x6b75;

/** Transport features every uk device offers. */
const TRANSPORT = featureBits(Feature.Version1, Feature.RingEventIdx, Feature.RingIndirectDesc);

export interface VirtioModelOptions {
  readonly ram: { base: number; size: number; bytes: Uint8Array };
  readonly irq: IrqLine;
  /** Where protocol errors are reported (default: the host's stderr). */
  readonly log?: (line: string) => void;
  /** Label for log lines, e.g. "virtio-blk on slot 0". */
  readonly label?: string;
}

/**
 * The generic virtio-mmio device (virtio 1.2 §4.2, version 2): the register file, device
 * status and its transitions, feature negotiation, queue setup, notifications, the interrupt
 * status and acknowledgement, and the configuration space with its generation counter. The
 * device type's behaviour comes from a VirtioBackend.
 *
 * A register access never throws: a guest that breaks the protocol gets DEVICE_NEEDS_RESET
 * and a configuration-change interrupt, and the device ignores its queues until reset.
 */
export class VirtioMmioModel implements MmioDevice, VirtioDeviceHandle {
  readonly name: string;
  readonly memory: GuestMemory;
  readonly queues: DeviceQueue[];
  private readonly chains: DescriptorChain[];
  private readonly offered: bigint;
  private readonly irq: IrqLine;
  private readonly logLine: (line: string) => void;
  private readonly label: string;

  status = 0;
  features = 0n;
  epoch = 0;
  interruptStatus = 0;
  configGeneration = 0;
  /** Why the device last set DEVICE_NEEDS_RESET (for tests and logs). */
  lastFault = '';
  private driverFeatures = 0n;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private resetting = false;
  private lineLevel = false;

  constructor(
    readonly backend: VirtioBackend,
    options: VirtioModelOptions,
  ) {
    this.name = backend.name;
    this.memory = new GuestMemory(options.ram);
    this.irq = options.irq;
    this.label = options.label ?? backend.name;
    this.logLine = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.offered = backend.features | TRANSPORT;
    this.queues = backend.queueSizes.map((n) => new DeviceQueue(n));
    this.chains = backend.queueSizes.map((n) => new DescriptorChain(n));
    backend.bind(this);
  }

  // --- the handle the backend uses -------------------------------------------------------

  newChain(queueIndex: number): DescriptorChain {
    return this.chains[queueIndex];
  }

  complete(queueIndex: number, head: number, len: number, epoch: number): boolean {
    if (epoch !== this.epoch || this.resetting) return false;
    const q = this.queues[queueIndex];
    if (q === undefined || !q.ready) return false;
    q.push(head, len);
    if (q.needsInterrupt()) this.raise(InterruptBit.UsedBuffer);
    return true;
  }

  fault(reason: string): void {
    if (this.status & Status.DeviceNeedsReset) return;
    this.lastFault = reason;
    this.status |= Status.DeviceNeedsReset;
    // Work in flight belongs to a broken queue now: its completions are dropped.
    this.epoch++;
    this.log(`${reason}; the device needs a reset`);
    if (this.status & Status.DriverOk) this.raise(InterruptBit.ConfigChange);
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & Status.DriverOk) this.raise(InterruptBit.ConfigChange);
  }

  log(message: string): void {
    this.logLine(`uk: ${this.label}: ${message}`);
  }

  // --- registers ---------------------------------------------------------------------------

  read(offset: number, size: 1 | 2 | 4): number {
    try {
      if (offset >= MmioReg.Config) return this.readConfig(offset - MmioReg.Config, size);
      if (size !== 4) return 0;
      return this.readRegister(offset) >>> 0;
    } catch (e) {
      this.internal(e);
      return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    try {
      if (offset >= MmioReg.Config) {
        if (!this.resetting) this.backend.configWrite?.(offset - MmioReg.Config, size, value);
        return;
      }
      if (size !== 4) return;
      this.writeRegister(offset, value >>> 0);
    } catch (e) {
      this.internal(e);
    }
  }

  private readRegister(offset: number): number {
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MmioReg.MagicValue:
        return MMIO_MAGIC;
      case MmioReg.Version:
        return MMIO_VERSION;
      case MmioReg.DeviceId:
        return this.backend.deviceId;
      case MmioReg.VendorId:
        return UK_VENDOR_ID;
      case MmioReg.DeviceFeatures:
        return featureWord(this.offered, this.deviceFeaturesSel);
      case MmioReg.QueueNumMax:
        return q === undefined ? 0 : q.maxSize;
      case MmioReg.QueueNum:
        return q === undefined ? 0 : q.size;
      case MmioReg.QueueReady:
        return q?.ready ? 1 : 0;
      case MmioReg.InterruptStatus:
        return this.interruptStatus;
      case MmioReg.Status:
        return this.status;
      case MmioReg.QueueDescLow:
        return q === undefined ? 0 : q.descAddr >>> 0;
      case MmioReg.QueueDescHigh:
        return q === undefined ? 0 : Math.floor(q.descAddr / 0x1_0000_0000);
      case MmioReg.QueueDriverLow:
        return q === undefined ? 0 : q.driverAddr >>> 0;
      case MmioReg.QueueDriverHigh:
        return q === undefined ? 0 : Math.floor(q.driverAddr / 0x1_0000_0000);
      case MmioReg.QueueDeviceLow:
        return q === undefined ? 0 : q.deviceAddr >>> 0;
      case MmioReg.QueueDeviceHigh:
        return q === undefined ? 0 : Math.floor(q.deviceAddr / 0x1_0000_0000);
      case MmioReg.ShmLenLow:
      case MmioReg.ShmLenHigh:
      case MmioReg.ShmBaseLow:
      case MmioReg.ShmBaseHigh:
        // No shared memory regions: a length of -1 says so (§4.2.2).
        return 0xffff_ffff;
      case MmioReg.ConfigGeneration:
        return this.configGeneration;
      default:
        return 0;
    }
  }

  private writeRegister(offset: number, value: number): void {
    if (offset === MmioReg.Status) {
      this.writeStatus(value);
      return;
    }
    // While a reset drains, the driver must wait for status 0; anything else is ignored.
    if (this.resetting) return;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MmioReg.DeviceFeaturesSel:
        this.deviceFeaturesSel = value;
        return;
      case MmioReg.DriverFeatures:
        if ((this.status & Status.FeaturesOk) === 0) this.driverFeatures = withFeatureWord(this.driverFeatures, this.driverFeaturesSel, value);
        return;
      case MmioReg.DriverFeaturesSel:
        this.driverFeaturesSel = value;
        return;
      case MmioReg.QueueSel:
        this.queueSel = value;
        return;
      case MmioReg.QueueNum:
        if (q !== undefined && !q.ready) q.size = value;
        return;
      case MmioReg.QueueReady:
        if (q !== undefined) this.setQueueReady(q, value);
        return;
      case MmioReg.QueueNotify:
        this.notify(value & 0xffff);
        return;
      case MmioReg.InterruptAck:
        this.interruptStatus &= ~value;
        this.updateLine();
        return;
      case MmioReg.QueueDescLow:
      case MmioReg.QueueDescHigh:
      case MmioReg.QueueDriverLow:
      case MmioReg.QueueDriverHigh:
      case MmioReg.QueueDeviceLow:
      case MmioReg.QueueDeviceHigh:
        if (q !== undefined && !q.ready) setAddressWord(q, offset, value);
        return;
      default:
        return;
    }
  }

  private setQueueReady(q: DeviceQueue, value: number): void {
    if (value === 0) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    if ((this.status & Status.FeaturesOk) === 0) {
      this.fault(`queue ${this.queues.indexOf(q)} enabled before FEATURES_OK`);
      return;
    }
    q.eventIdx = hasFeature(this.features, Feature.RingEventIdx);
    q.indirect = hasFeature(this.features, Feature.RingIndirectDesc);
    try {
      q.activate(this.memory);
    } catch (e) {
      if (!(e instanceof VirtioFault)) throw e;
      this.fault(`queue ${this.queues.indexOf(q)}: ${e.message}`);
    }
  }

  private writeStatus(value: number): void {
    value &= 0xff;
    if (value === 0) {
      this.reset();
      return;
    }
    if (this.resetting) return;
    const added = value & ~this.status;
    if (added & Status.FeaturesOk) {
      // Accept only a subset of what was offered, and only a modern driver (§6.1).
      const ok = (this.driverFeatures & ~this.offered) === 0n && hasFeature(this.driverFeatures, Feature.Version1);
      if (ok) this.features = this.driverFeatures;
      else value &= ~Status.FeaturesOk;
    }
    if (added & Status.DriverOk && (value & Status.FeaturesOk) === 0) value &= ~Status.DriverOk;
    // DEVICE_NEEDS_RESET is the device's bit: the driver can neither set nor clear it.
    this.status = (value & ~Status.DeviceNeedsReset) | (this.status & Status.DeviceNeedsReset);
    if (added & this.status & Status.DriverOk) {
      this.backend.activate?.(this.features);
      // Buffers added before DRIVER_OK are seen now (some drivers pre-fill receive queues).
      this.queues.forEach((q, i) => {
        if (q.ready) this.notify(i);
      });
    }
  }

  private notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined || !q.ready) return;
    if ((this.status & (Status.DriverOk | Status.DeviceNeedsReset | Status.Failed)) !== Status.DriverOk) return;
    try {
      this.backend.notify(index, q);
    } catch (e) {
      if (!(e instanceof VirtioFault)) throw e;
      this.fault(`queue ${index}: ${e.message}`);
    }
  }

  private reset(): void {
    if (this.resetting) return;
    this.epoch++;
    this.resetting = true;
    for (const q of this.queues) q.reset();
    this.features = 0n;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.lastFault = '';
    this.updateLine();
    const finish = () => {
      this.resetting = false;
      this.status = 0;
    };
    let drained: void | Promise<void> = undefined;
    try {
      drained = this.backend.reset();
    } catch (e) {
      this.internal(e);
    }
    if (drained instanceof Promise) {
      drained.then(finish, (e: unknown) => {
        this.internal(e);
        finish();
      });
    } else finish();
  }

  private readConfig(off: number, size: number): number {
    const c = this.backend.config;
    if (off + size > c.length) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + c[off + i];
    return v;
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.updateLine();
  }

  private updateLine(): void {
    const level = this.interruptStatus !== 0;
    if (level === this.lineLevel) return;
    this.lineLevel = level;
    this.irq.set(level);
  }

  /** A bug on the host side: report it and stop the device rather than the machine. */
  private internal(e: unknown): void {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    this.fault(`internal error: ${msg}`);
  }
}

function setAddressWord(q: DeviceQueue, reg: number, value: number): void {
  // Addresses are kept as numbers; a high word that makes them inexact is out of RAM anyway.
  const set = (old: number, high: boolean) => (high ? (old >>> 0) + value * 0x1_0000_0000 : Math.floor(old / 0x1_0000_0000) * 0x1_0000_0000 + value);
  switch (reg) {
    case MmioReg.QueueDescLow:
      q.descAddr = set(q.descAddr, false);
      return;
    case MmioReg.QueueDescHigh:
      q.descAddr = set(q.descAddr, true);
      return;
    case MmioReg.QueueDriverLow:
      q.driverAddr = set(q.driverAddr, false);
      return;
    case MmioReg.QueueDriverHigh:
      q.driverAddr = set(q.driverAddr, true);
      return;
    case MmioReg.QueueDeviceLow:
      q.deviceAddr = set(q.deviceAddr, false);
      return;
    case MmioReg.QueueDeviceHigh:
      q.deviceAddr = set(q.deviceAddr, true);
      return;
  }
}
