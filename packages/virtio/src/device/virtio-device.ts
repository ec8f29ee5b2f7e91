import type { FdtNode } from '@uk/fdt';
import { type Cpu, type DmaHeap, type IrqController, KernelError } from '@uk/hal';
import { describeStatus, deviceIdName, Feature, featureBits, hasFeature, InterruptBit, Status } from '@uk/virtio-spec';
import { RamWindow } from '../memory/ram-window.js';
import type { MmioTransport } from '../mmio/transport.js';
import { SplitQueue } from '../queue/split-queue.js';

/** What a virtio device needs of the kernel. */
export interface VirtioEnv {
  readonly cpu: Cpu;
  readonly dma: DmaHeap;
  readonly irq: IrqController;
}

/** A driver's interrupt callbacks; both run in interrupt context and must not block. */
export interface VirtioInterruptHandlers {
  /** The device returned buffers on some queue. */
  used?(): void;
  /** The configuration changed, or the device set DEVICE_NEEDS_RESET (check `needsReset()`). */
  config?(): void;
}

/** Features every uk virtio driver negotiates when the device offers them. */
export const TRANSPORT_FEATURES = featureBits(Feature.Version1, Feature.RingEventIdx, Feature.RingIndirectDesc);

/** How long a reset may take before the device is given up on (ns). */
const RESET_TIMEOUT_NS = 2e9;
/** How often the driver looks at the status while it waits for a reset to finish (ns). */
const RESET_POLL_NS = 50_000;
/** Config reads retried this often while the generation keeps changing. */
const MAX_CONFIG_RETRIES = 64;

/**
 * One virtio-mmio device, driven by the sequence of virtio 1.2 §3.1.1: reset, ACKNOWLEDGE,
 * DRIVER, feature negotiation, FEATURES_OK (checked), queue setup, DRIVER_OK. Also reset and
 * recovery after DEVICE_NEEDS_RESET, configuration reads that retry on a generation change,
 * and the interrupt line.
 */
export class VirtioMmioDevice {
  readonly ram: RamWindow;
  /** The features both sides agreed on. */
  features = 0n;
  private readonly queues: Array<SplitQueue<unknown> | undefined> = [];
  private handlers: VirtioInterruptHandlers = {};
  private listening = false;

  constructor(
    readonly env: VirtioEnv,
    readonly transport: MmioTransport,
    /** The PLIC line, from the node's `interrupts`. */
    readonly irqLine: number,
    readonly node?: FdtNode,
    ram?: RamWindow,
  ) {
    this.ram = ram ?? new RamWindow(env.cpu.ram);
  }

  get deviceId(): number {
    return this.transport.deviceId;
  }

  /** "virtio-mmio@10001000 (block)", for messages. */
  get label(): string {
    return `virtio-mmio@${this.transport.base.toString(16)} (${deviceIdName(this.transport.deviceId)})`;
  }

  has(feature: number): boolean {
    return hasFeature(this.features, feature);
  }

  /**
   * Resets the device and negotiates: the result is what the device offers of `wanted`
   * (device-specific bits) and of the transport features (VERSION_1, RING_EVENT_IDX,
   * RING_INDIRECT_DESC). A device without VERSION_1 (legacy) or that refuses FEATURES_OK
   * is marked FAILED and ENODEV is thrown.
   */
  async initialize(wanted: bigint): Promise<bigint> {
    await this.reset();
    const t = this.transport;
    t.status = Status.Acknowledge;
    t.addStatus(Status.Driver);
    const offered = t.deviceFeatures();
    if (!hasFeature(offered, Feature.Version1)) {
      this.fail();
      throw new KernelError('ENODEV', `${this.label} is a legacy device (no VIRTIO_F_VERSION_1); uk drives virtio 1.x devices only`);
    }
    const features = offered & (wanted | TRANSPORT_FEATURES);
    this.negotiate(features);
    this.features = features;
    return features;
  }

  private negotiate(features: bigint): void {
    const t = this.transport;
    t.setDriverFeatures(features);
    t.addStatus(Status.FeaturesOk);
    if ((t.status & Status.FeaturesOk) === 0) {
      this.fail();
      throw new KernelError('ENODEV', `${this.label} did not accept features 0x${features.toString(16)} (FEATURES_OK stayed clear)`);
    }
  }

  /**
   * Sets up queue `index` with at most `maxSize` entries (the device's maximum if smaller,
   * rounded down to a power of two) and enables it.
   */
  createQueue<T>(index: number, maxSize = 256): SplitQueue<T> {
    const t = this.transport;
    const max = t.queueMax(index);
    if (max === 0) throw new KernelError('ENODEV', `${this.label} has no queue ${index}`);
    if (t.queueReady(index)) throw new KernelError('EBUSY', `${this.label}: queue ${index} is already in use`);
    let size = 1;
    while (size * 2 <= Math.min(max, maxSize)) size *= 2;
    const q = new SplitQueue<T>(this.ram, this.env.dma, index, size, { eventIdx: this.has(Feature.RingEventIdx), indirect: this.has(Feature.RingIndirectDesc) });
    t.enableQueue(index, size, q.descPa, q.availPa, q.usedPa);
    this.queues[index] = q as SplitQueue<unknown>;
    return q;
  }

  /** The driver is ready: the device may start using the queues. */
  driverOk(): void {
    this.transport.addStatus(Status.DriverOk);
    if (this.transport.needsReset()) this.handlers.config?.();
  }

  /** Routes the device's interrupt line to `handlers` (once). */
  listen(handlers: VirtioInterruptHandlers): void {
    this.handlers = handlers;
    if (this.listening) return;
    this.env.irq.register(this.irqLine, () => this.onInterrupt());
    this.listening = true;
  }

  private onInterrupt(): void {
    const t = this.transport;
    // Acknowledge used buffers before looking at the rings, so that a buffer used after this
    // raises the line again. A write may be posted (the isolated vCPU posts them) and land
    // after the device has set the bit anew for a buffer the rings would not show yet; the
    // read that follows returns only once the write has reached the device, and tells what
    // else is pending. (Acknowledging without reading first saves a round trip per interrupt;
    // the queues are cheap to look at when nothing is there.)
    t.ackInterrupt(InterruptBit.UsedBuffer);
    const isr = t.interruptStatus();
    if (isr & InterruptBit.ConfigChange) {
      t.ackInterrupt(InterruptBit.ConfigChange);
      t.interruptStatus();
      this.handlers.config?.();
    }
    this.handlers.used?.();
  }

  /** Notifies the device of new buffers in `queue`, unless it said it does not need to hear. */
  kick<T>(queue: SplitQueue<T>): void {
    if (queue.kickNeeded()) this.transport.notify(queue.index);
  }

  needsReset(): boolean {
    return this.transport.needsReset();
  }

  /**
   * Resets the device and waits until it reads back 0 (§2.1.2: it may take a while to stop
   * its in-flight work). ETIMEDOUT if it never does.
   */
  async reset(): Promise<void> {
    const t = this.transport;
    const cpu = this.env.cpu;
    t.status = 0;
    if (t.status === 0) return;
    const deadline = cpu.readTime() + RESET_TIMEOUT_NS;
    while (t.status !== 0) {
      if (cpu.readTime() > deadline) {
        throw new KernelError('ETIMEDOUT', `${this.label} did not finish its reset within ${RESET_TIMEOUT_NS / 1e9} s (status ${describeStatus(t.status)})`);
      }
      await cpu.wfi(cpu.readTime() + RESET_POLL_NS);
    }
  }

  /**
   * Brings the device back after DEVICE_NEEDS_RESET or a broken queue: reset, the same
   * features again, every queue emptied and re-enabled at its old address, DRIVER_OK. The
   * caller has taken back (and failed) its outstanding requests first.
   */
  async recover(): Promise<void> {
    await this.reset();
    const t = this.transport;
    t.status = Status.Acknowledge;
    t.addStatus(Status.Driver);
    this.negotiate(this.features);
    for (const q of this.queues) {
      if (q === undefined) continue;
      q.resetState();
      t.enableQueue(q.index, q.size, q.descPa, q.availPa, q.usedPa);
    }
    this.driverOk();
  }

  /** Tells the device the driver has given up on it. */
  fail(): void {
    this.transport.addStatus(Status.Failed);
  }

  /**
   * Runs `read` (configuration space reads) until the configuration generation is the same
   * before and after, so that a multi-field value is never torn by a concurrent change.
   */
  stableConfig<R>(read: () => R): R {
    const t = this.transport;
    for (let i = 0; i < MAX_CONFIG_RETRIES; i++) {
      const before = t.configGeneration();
      const value = read();
      if (t.configGeneration() === before) return value;
    }
    throw new KernelError('EIO', `${this.label}: the configuration kept changing while being read (${MAX_CONFIG_RETRIES} tries)`);
  }
}
