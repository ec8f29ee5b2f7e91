import {
  availEntryOffset,
  DescFlag,
  DeviceId,
  Feature,
  featureBits,
  InterruptBit,
  MMIO_MAGIC,
  MmioReg,
  splitRingLayout,
  Status,
  writeDesc,
} from '@uk/virtio-spec';
import type { VirtioMmioModel } from '@uk/vmm';
import { describe, expect, it } from 'vitest';
import createDevice, { seededSource, type VirtioRngDeviceOptions, type VirtioRngSlotDevice, virtioRngDevice } from '../src/device/index.js';

// The device model driven through its registers by a driver written here from the
// specification, with no kernel package in between.

const BASE = 0x8000_0000;
const RAM = 1 << 20;
const RING = BASE + 0x1000;
const BUF = BASE + 0x1_0000;
const QSIZE = 16;

type Buf = [pa: number, len: number, writable: boolean];

class MiniDriver {
  readonly bytes = new Uint8Array(new SharedArrayBuffer(RAM));
  readonly view = new DataView(this.bytes.buffer);
  readonly logs: string[] = [];
  readonly dev: VirtioRngSlotDevice;
  readonly model: VirtioMmioModel;
  line = false;
  private avail = 0;
  private used = 0;
  private nextDesc = 0;
  private readonly layout = splitRingLayout(QSIZE);

  constructor(options: VirtioRngDeviceOptions = {}) {
    this.dev = virtioRngDevice({ ...options, log: (l) => this.logs.push(l) });
    this.model = this.dev.attach({ ram: { base: BASE, size: RAM, bytes: this.bytes }, irq: { set: (high) => (this.line = high) }, slot: 0 }) as VirtioMmioModel;
    this.init();
  }

  init(): void {
    this.avail = 0;
    this.used = 0;
    this.nextDesc = 0;
    this.bytes.fill(0, RING - BASE, RING - BASE + this.layout.bytes);
    this.w(MmioReg.Status, 0);
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver);
    const features = featureBits(Feature.Version1);
    this.w(MmioReg.DriverFeaturesSel, 0);
    this.w(MmioReg.DriverFeatures, Number(features & 0xffff_ffffn));
    this.w(MmioReg.DriverFeaturesSel, 1);
    this.w(MmioReg.DriverFeatures, Number(features >> 32n));
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    this.w(MmioReg.QueueSel, 0);
    this.w(MmioReg.QueueNum, QSIZE);
    this.w(MmioReg.QueueDescLow, RING);
    this.w(MmioReg.QueueDriverLow, RING + this.layout.avail);
    this.w(MmioReg.QueueDeviceLow, RING + this.layout.used);
    this.w(MmioReg.QueueReady, 1);
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  }

  r(reg: number): number {
    return this.model.read(reg, 4);
  }

  w(reg: number, v: number): void {
    this.model.write(reg, 4, v);
  }

  /** Makes a chain of buffers available (descriptors linked in order); returns its head. */
  offer(bufs: Buf[], link?: (i: number, d: number) => number): number {
    const head = this.nextDesc;
    bufs.forEach(([pa, len, writable], i) => {
      const d = (head + i) % QSIZE;
      const last = i === bufs.length - 1;
      const next = link ? link(i, d) : (d + 1) % QSIZE;
      writeDesc(this.view, RING - BASE + 16 * d, pa, len, (last && link === undefined ? 0 : DescFlag.Next) | (writable ? DescFlag.Write : 0), next);
    });
    this.nextDesc = (head + bufs.length) % QSIZE;
    this.view.setUint16(RING - BASE + this.layout.avail + availEntryOffset(this.avail % QSIZE), head, true);
    this.avail = (this.avail + 1) & 0xffff;
    this.view.setUint16(RING - BASE + this.layout.avail + 2, this.avail, true);
    return head;
  }

  notify(): void {
    this.w(MmioReg.QueueNotify, 0);
  }

  /** Used entries the device added since the last call, as [id, len]. */
  takeUsed(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const idx = this.view.getUint16(RING - BASE + this.layout.used + 2, true);
    while (this.used !== idx) {
      const at = RING - BASE + this.layout.used + 4 + 8 * (this.used % QSIZE);
      out.push([this.view.getUint32(at, true), this.view.getUint32(at + 4, true)]);
      this.used = (this.used + 1) & 0xffff;
    }
    return out;
  }

  at(pa: number, len: number): Uint8Array {
    return this.bytes.slice(pa - BASE, pa - BASE + len);
  }
}

function stream(seed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  seededSource(seed)(out);
  return out;
}

describe('the virtio-rng device model', () => {
  it('is a virtio 1.x entropy device: ID 4, one queue, no device features, no configuration space', () => {
    const d = new MiniDriver();
    expect(d.r(MmioReg.MagicValue)).toBe(MMIO_MAGIC);
    expect(d.r(MmioReg.DeviceId)).toBe(DeviceId.Entropy);
    d.w(MmioReg.DeviceFeaturesSel, 0);
    const lo = d.r(MmioReg.DeviceFeatures);
    d.w(MmioReg.DeviceFeaturesSel, 1);
    const hi = d.r(MmioReg.DeviceFeatures);
    // Only the transport's bits (RING_INDIRECT_DESC 28, RING_EVENT_IDX 29, VERSION_1 32).
    expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(featureBits(Feature.Version1, Feature.RingEventIdx, Feature.RingIndirectDesc));
    d.w(MmioReg.QueueSel, 1);
    expect(d.r(MmioReg.QueueNumMax)).toBe(0);
    expect(d.model.read(MmioReg.Config, 4)).toBe(0);
    expect(d.r(MmioReg.Status) & Status.DriverOk).toBe(Status.DriverOk);
  });

  it('fills every device-writable buffer of a chain and returns the chain with its length', () => {
    const d = new MiniDriver({ source: seededSource(5) });
    const head = d.offer([
      [BUF, 10, true],
      [BUF + 100, 20, true],
      [BUF + 200, 5, true],
    ]);
    d.notify();
    expect(d.takeUsed()).toEqual([[head, 35]]);
    const want = stream(5, 35);
    expect(d.at(BUF, 10)).toEqual(want.subarray(0, 10));
    expect(d.at(BUF + 100, 20)).toEqual(want.subarray(10, 30));
    expect(d.at(BUF + 200, 5)).toEqual(want.subarray(30, 35));
    // Nothing between the buffers was written.
    expect(d.at(BUF + 10, 90).every((b) => b === 0)).toBe(true);
    expect(d.line).toBe(true);
    expect(d.r(MmioReg.InterruptStatus) & InterruptBit.UsedBuffer).toBe(InterruptBit.UsedBuffer);
    expect(d.dev.backend?.stats).toEqual({ requests: 1, bytes: 35 });
  });

  it('answers every chain made available before one notification, in order', () => {
    const d = new MiniDriver({ source: seededSource(9) });
    const heads = [d.offer([[BUF, 4, true]]), d.offer([[BUF + 16, 4, true]]), d.offer([[BUF + 32, 4, true]])];
    d.notify();
    expect(d.takeUsed()).toEqual(heads.map((h) => [h, 4]));
    const want = stream(9, 12);
    expect([...d.at(BUF, 4), ...d.at(BUF + 16, 4), ...d.at(BUF + 32, 4)]).toEqual([...want]);
  });

  it('gives at most bytesPerRequest bytes and leaves the rest of the buffer alone', () => {
    const d = new MiniDriver({ source: seededSource(1), bytesPerRequest: 8 });
    const head = d.offer([
      [BUF, 5, true],
      [BUF + 64, 64, true],
    ]);
    d.notify();
    expect(d.takeUsed()).toEqual([[head, 8]]);
    const want = stream(1, 8);
    expect(d.at(BUF, 5)).toEqual(want.subarray(0, 5));
    expect(d.at(BUF + 64, 3)).toEqual(want.subarray(5, 8));
    expect(d.at(BUF + 67, 61).every((b) => b === 0)).toBe(true);
  });

  it('treats a chain with a device-readable buffer as a fault: DEVICE_NEEDS_RESET, no answer, no crash', () => {
    const d = new MiniDriver({ source: seededSource(2) });
    d.offer([
      [BUF, 16, false],
      [BUF + 16, 16, true],
    ]);
    expect(() => d.notify()).not.toThrow();
    expect(d.takeUsed()).toEqual([]);
    expect(d.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
    expect(d.model.lastFault).toMatch(/device-readable/);
    expect(d.logs.join('\n')).toMatch(/virtio-rng on slot 0: .*device-readable.*needs a reset/);
    expect(d.r(MmioReg.InterruptStatus) & InterruptBit.ConfigChange).toBe(InterruptBit.ConfigChange);
    expect(d.at(BUF + 16, 16).every((b) => b === 0)).toBe(true);
    // Further notifications are ignored until the driver resets the device; after that it works.
    d.offer([[BUF + 64, 8, true]]);
    d.notify();
    expect(d.takeUsed()).toEqual([]);
    d.init();
    expect(d.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(0);
    const head = d.offer([[BUF + 64, 8, true]]);
    d.notify();
    expect(d.takeUsed()).toEqual([[head, 8]]);
  });

  it.each<[string, Buf[], ((i: number, d: number) => number) | undefined, RegExp]>([
    ['a buffer outside RAM', [[BASE + RAM - 4, 16, true]], undefined, /not inside RAM/],
    ['a chain that loops', [[BUF, 4, true], [BUF + 4, 4, true]], (i, d) => (i === 0 ? d + 1 : d - 1), /loops/],
    ['only zero-length buffers', [[BUF, 0, true]], undefined, /no room for a byte/],
    ['a readable buffer after a writable one', [[BUF, 4, true], [BUF + 4, 4, false]], undefined, /readable buffer after a device-writable/],
  ])('reports %s as a fault and writes nothing', (_what, bufs, link, reason) => {
    const d = new MiniDriver();
    d.offer(bufs, link);
    expect(() => d.notify()).not.toThrow();
    expect(d.takeUsed()).toEqual([]);
    expect(d.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
    expect(d.model.lastFault).toMatch(reason);
    expect(d.at(BUF, 64).every((b) => b === 0)).toBe(true);
  });

  it('gives the same bytes for the same seed, and the host generator different bytes each time', () => {
    const fill = (options: VirtioRngDeviceOptions) => {
      const d = new MiniDriver(options);
      d.offer([[BUF, 64, true]]);
      d.notify();
      return d.at(BUF, 64);
    };
    expect(fill({ source: seededSource(42) })).toEqual(fill({ source: seededSource(42) }));
    expect(fill({ source: seededSource(42) })).not.toEqual(fill({ source: seededSource(43) }));
    const a = fill({});
    expect(a).not.toEqual(fill({}));
    expect(a.every((b) => b === 0)).toBe(false);
  });
});

describe('the device module', () => {
  it('has a default export that makes a SlotDevice from string options', () => {
    const dev = createDevice({ seed: '0x2a', bytesPerRequest: '16', queueSize: '8' });
    expect(dev.name).toBe('virtio-rng');
    const bytes = new Uint8Array(new SharedArrayBuffer(RAM));
    const model = dev.attach({ ram: { base: BASE, size: RAM, bytes }, irq: { set() {} }, slot: 3 }) as VirtioMmioModel;
    model.write(MmioReg.QueueSel, 4, 0);
    expect(model.read(MmioReg.QueueNumMax, 4)).toBe(8);
    expect(createDevice().name).toBe('virtio-rng');
  });

  it.each([
    [{ nope: '1' }, /unknown option nope; the options are seed=N, bytesPerRequest=N, queueSize=N/],
    [{ seed: 'abc' }, /seed=abc: expected a whole number/],
    [{ seed: '-1' }, /seed=-1/],
    [{ bytesPerRequest: '0' }, /bytesPerRequest=0: expected a whole number from 1/],
    [{ queueSize: '3' }, /queueSize=3: expected a power of two/],
    [{ queueSize: '65536' }, /queueSize=65536/],
  ])('refuses %o with a message that names the option', (options, message) => {
    expect(() => createDevice(options)).toThrow(message);
  });
});
