import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  availEntryOffset,
  BlkConfigField,
  BlkFeature,
  BlkRequestType,
  BlkStatus,
  DescFlag,
  DeviceId,
  Feature,
  featureBits,
  InterruptBit,
  MMIO_MAGIC,
  MmioReg,
  splitRingLayout,
  Status,
  writeBlkDiscardSegment,
  writeBlkRequestHeader,
  writeDesc,
} from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { DiskError, parseDiskSpec, type VirtioBlkSlotDevice, virtioBlkDevice, VirtioMmioModel } from '../src/index.js';

const BASE = 0x8000_0000;
const RAM = 4 << 20;
const RING = BASE + 0x1000;
const tmp = mkdtempSync(join(tmpdir(), 'uk-vblk-'));

function image(name: string, bytes: number, fill?: (b: Uint8Array) => void): string {
  const path = join(tmp, name);
  const b = new Uint8Array(bytes);
  fill?.(b);
  writeFileSync(path, b);
  return path;
}

/**
 * A minimal driver written from the specification, to drive the device model through its
 * registers without any kernel package.
 */
class MiniDriver {
  readonly bytes = new Uint8Array(RAM);
  readonly view = new DataView(this.bytes.buffer);
  level = false;
  logs: string[] = [];
  model: VirtioMmioModel;
  dev: VirtioBlkSlotDevice;
  size = 16;
  private avail = 0;
  private used = 0;
  private nextDesc = 0;
  private readonly l = splitRingLayout(16);

  constructor(spec: string | VirtioBlkSlotDevice, features = featureBits(Feature.Version1, BlkFeature.Flush, BlkFeature.Discard, BlkFeature.WriteZeroes)) {
    this.dev = typeof spec === 'string' ? virtioBlkDevice(spec, { log: (l) => this.logs.push(l) }) : spec;
    this.model = this.dev.attach({ ram: { base: BASE, size: RAM, bytes: this.bytes }, irq: { set: (l) => (this.level = l) }, slot: 0 }) as VirtioMmioModel;
    this.w(MmioReg.Status, 0);
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver);
    this.w(MmioReg.DriverFeaturesSel, 0);
    this.w(MmioReg.DriverFeatures, Number(features & 0xffffffffn));
    this.w(MmioReg.DriverFeaturesSel, 1);
    this.w(MmioReg.DriverFeatures, Number(features >> 32n));
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    this.w(MmioReg.QueueSel, 0);
    this.w(MmioReg.QueueNum, this.size);
    this.w(MmioReg.QueueDescLow, RING);
    this.w(MmioReg.QueueDriverLow, RING + this.l.avail);
    this.w(MmioReg.QueueDeviceLow, RING + this.l.used);
    this.w(MmioReg.QueueReady, 1);
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  }

  r(reg: number): number {
    return this.model.read(reg, 4);
  }

  w(reg: number, v: number): void {
    this.model.write(reg, 4, v);
  }

  /** Submits a chain of [pa, len, writable] and waits for the device to return it. */
  async request(bufs: Array<[number, number, boolean]>, waitMs = 10_000): Promise<number> {
    const head = this.nextDesc;
    bufs.forEach(([pa, len, wr], i) => {
      const d = (head + i) % this.size;
      const last = i === bufs.length - 1;
      writeDesc(this.view, RING - BASE + 16 * d, pa, len, (last ? 0 : DescFlag.Next) | (wr ? DescFlag.Write : 0), (d + 1) % this.size);
    });
    this.nextDesc = (head + bufs.length) % this.size;
    this.view.setUint16(RING - BASE + this.l.avail + availEntryOffset(this.avail % this.size), head, true);
    this.avail = (this.avail + 1) & 0xffff;
    this.view.setUint16(RING - BASE + this.l.avail + 2, this.avail, true);
    this.w(MmioReg.QueueNotify, 0);
    const until = Date.now() + waitMs;
    while (Date.now() < until && this.view.getUint16(RING - BASE + this.l.used + 2, true) === this.used) await new Promise((r) => setImmediate(r));
    const idx = this.view.getUint16(RING - BASE + this.l.used + 2, true);
    if (idx === this.used) throw new Error('the device never returned the request');
    const at = RING - BASE + this.l.used + 4 + 8 * (this.used % this.size);
    this.used = (this.used + 1) & 0xffff;
    expect(this.view.getUint32(at, true)).toBe(head);
    return this.view.getUint32(at + 4, true);
  }

  /** A blk request at fixed scratch addresses: header 0x100000, data 0x101000, status 0x1ff000. */
  async blk(type: number, sector: number, data?: Uint8Array, dataLen = data?.length ?? 0): Promise<{ status: number; len: number; data: Uint8Array }> {
    const hdr = BASE + 0x10_0000;
    const buf = BASE + 0x10_1000;
    const st = BASE + 0x1f_f000;
    writeBlkRequestHeader(this.view, hdr - BASE, type, sector);
    this.bytes[st - BASE] = 0xee;
    if (data !== undefined) this.bytes.set(data, buf - BASE);
    const writesData = type === BlkRequestType.In || type === BlkRequestType.GetId;
    const bufs: Array<[number, number, boolean]> = [[hdr, 16, false]];
    if (dataLen > 0) bufs.push([buf, dataLen, writesData]);
    bufs.push([st, 1, true]);
    const len = await this.request(bufs);
    return { status: this.bytes[st - BASE], len, data: this.bytes.slice(buf - BASE, buf - BASE + dataLen) };
  }
}

describe('--disk specs', () => {
  it('parses path[,ro]', () => {
    expect(parseDiskSpec('a.img')).toEqual({ path: 'a.img', readOnly: false, serial: undefined });
    expect(parseDiskSpec('dir/a.img,ro')).toMatchObject({ path: 'dir/a.img', readOnly: true });
    expect(parseDiskSpec('a.img,ro,serial=disk0')).toMatchObject({ readOnly: true, serial: 'disk0' });
    expect(() => parseDiskSpec('a.img,fast')).toThrow(/unknown option "fast"; the options are ro, rw and serial=ID/);
    expect(() => parseDiskSpec(',ro')).toThrow(DiskError);
  });

  it('refuses, before boot, a file that is missing, a directory, empty, or not whole sectors', () => {
    expect(() => virtioBlkDevice(join(tmp, 'nope.img'))).toThrow(/nope\.img does not exist; create one first, e\.g\. `truncate -s 64M/);
    const dir = join(tmp, 'adir');
    mkdirSync(dir, { recursive: true });
    expect(() => virtioBlkDevice(dir)).toThrow(/is a directory/);
    expect(() => virtioBlkDevice(image('empty.img', 0))).toThrow(/is empty/);
    const odd = image('odd.img', 1000);
    let err: unknown;
    try {
      virtioBlkDevice(`${odd},ro`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DiskError);
    expect((err as DiskError).path).toBe(odd);
    expect((err as DiskError).message).toBe(`disk image ${odd} is 1000 bytes, not a whole number of 512-byte sectors; pad it, e.g. \`truncate -s 1024 ${odd}\``);
    expect((err as DiskError).message).not.toContain('\n');
  });
});

describe('the virtio-mmio register file', () => {
  it('identifies a modern block device and offers its features', () => {
    const d = new MiniDriver(image('id.img', 8192), featureBits(Feature.Version1));
    expect(d.r(MmioReg.MagicValue)).toBe(MMIO_MAGIC);
    expect(d.r(MmioReg.Version)).toBe(2);
    expect(d.r(MmioReg.DeviceId)).toBe(DeviceId.Block);
    d.w(MmioReg.DeviceFeaturesSel, 1);
    expect(d.r(MmioReg.DeviceFeatures) & 1).toBe(1); // VERSION_1
    d.w(MmioReg.DeviceFeaturesSel, 0);
    const lo = d.r(MmioReg.DeviceFeatures);
    for (const f of [BlkFeature.Flush, BlkFeature.SegMax, BlkFeature.BlkSize, Feature.RingEventIdx, Feature.RingIndirectDesc]) expect((lo >>> f) & 1).toBe(1);
    expect((lo >>> BlkFeature.Ro) & 1).toBe(0);
    expect(d.r(MmioReg.QueueNumMax)).toBe(256);
    expect(d.r(MmioReg.ShmLenLow)).toBe(0xffffffff);
    expect(d.r(MmioReg.Status)).toBe(Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  });

  it('reads the configuration space at every width', () => {
    const d = new MiniDriver(image('cfg.img', 3 * 512));
    expect(d.model.read(MmioReg.Config + BlkConfigField.capacity, 4)).toBe(3);
    expect(d.model.read(MmioReg.Config + BlkConfigField.capacity + 4, 4)).toBe(0);
    expect(d.model.read(MmioReg.Config + BlkConfigField.blkSize, 4)).toBe(512);
    expect(d.model.read(MmioReg.Config + BlkConfigField.blkSize + 1, 1)).toBe(2);
    expect(d.model.read(MmioReg.Config + BlkConfigField.segMax, 2)).toBe(254);
    expect(d.model.read(MmioReg.Config + 0x800, 4)).toBe(0);
  });

  it('keeps FEATURES_OK clear for features it did not offer, or for a legacy driver', () => {
    const path = image('neg.img', 512);
    const a = new MiniDriver(path, featureBits(Feature.Version1, 20));
    expect(a.r(MmioReg.Status) & Status.FeaturesOk).toBe(0);
    const b = new MiniDriver(path, featureBits(BlkFeature.Flush));
    expect(b.r(MmioReg.Status) & Status.FeaturesOk).toBe(0);
    // Its queue was enabled anyway: that is a protocol error.
    expect(b.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
  });

  it('answers anything at any offset and width without throwing', () => {
    const d = new MiniDriver(image('any.img', 512));
    for (let off = 0; off < 0x1000; off += 1) {
      for (const size of [1, 2, 4] as const) {
        if (off % size !== 0) continue;
        expect(() => d.model.read(off, size)).not.toThrow();
      }
    }
    for (let off = 0; off < 0x100; off += 4) if (off !== MmioReg.Status) d.model.write(off, 4, 0xffffffff);
    expect(d.logs.every((l) => !l.includes('internal error'))).toBe(true);
  });
});

describe('virtio-blk requests', () => {
  it('writes to and reads from the image file, and flushes', async () => {
    const path = image('rw.img', 64 * 512);
    const d = new MiniDriver(path);
    const data = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13) & 0xff);
    expect((await d.blk(BlkRequestType.Out, 8, data)).status).toBe(BlkStatus.Ok);
    expect((await d.blk(BlkRequestType.Flush, 0)).status).toBe(BlkStatus.Ok);
    expect(new Uint8Array(readFileSync(path)).subarray(8 * 512, 8 * 512 + 4096)).toEqual(data);
    const r = await d.blk(BlkRequestType.In, 8, undefined, 4096);
    expect(r.status).toBe(BlkStatus.Ok);
    expect(r.len).toBe(4097);
    expect(r.data).toEqual(data);
    expect(d.level).toBe(true);
    expect(d.r(MmioReg.InterruptStatus) & InterruptBit.UsedBuffer).toBe(1);
    d.w(MmioReg.InterruptAck, InterruptBit.UsedBuffer);
    expect(d.level).toBe(false);
  });

  it('reads a header and data split across descriptors in any arrangement', async () => {
    const path = image('split.img', 16 * 512, (b) => b.fill(0x77, 512, 1024));
    const d = new MiniDriver(path);
    const hdr = BASE + 0x20_0000;
    writeBlkRequestHeader(d.view, hdr - BASE, BlkRequestType.In, 1);
    const st = BASE + 0x20_1000;
    const len = await d.request([
      [hdr, 5, false],
      [hdr + 5, 11, false],
      [BASE + 0x30_0000, 100, true],
      [BASE + 0x30_1000, 412, true],
      [st, 1, true],
    ]);
    expect(len).toBe(513);
    expect(d.bytes[st - BASE]).toBe(BlkStatus.Ok);
    expect(d.bytes.subarray(0x30_0000, 0x30_0000 + 100).every((b) => b === 0x77)).toBe(true);
    expect(d.bytes.subarray(0x30_1000, 0x30_1000 + 412).every((b) => b === 0x77)).toBe(true);
  });

  it('answers IOERR past the end and for partial sectors, UNSUPP for unknown types', async () => {
    const d = new MiniDriver(image('err.img', 8 * 512));
    expect((await d.blk(BlkRequestType.In, 7, undefined, 1024)).status).toBe(BlkStatus.IoErr);
    expect((await d.blk(BlkRequestType.Out, 0, new Uint8Array(100))).status).toBe(BlkStatus.IoErr);
    expect((await d.blk(BlkRequestType.In, 2 ** 40, undefined, 512)).status).toBe(BlkStatus.IoErr);
    expect((await d.blk(99, 0)).status).toBe(BlkStatus.Unsupp);
    expect(d.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(0);
  });

  it('refuses writes to a read-only disk with IOERR and offers VIRTIO_BLK_F_RO', async () => {
    const path = image('ro.img', 8 * 512, (b) => b.fill(1));
    const d = new MiniDriver(`${path},ro`, featureBits(Feature.Version1, BlkFeature.Flush, BlkFeature.Ro));
    expect(d.r(MmioReg.Status) & Status.FeaturesOk).toBe(Status.FeaturesOk);
    d.w(MmioReg.DeviceFeaturesSel, 0);
    expect((d.r(MmioReg.DeviceFeatures) >>> BlkFeature.Ro) & 1).toBe(1);
    expect((await d.blk(BlkRequestType.Out, 0, new Uint8Array(512))).status).toBe(BlkStatus.IoErr);
    expect((await d.blk(BlkRequestType.WriteZeroes, 0, segment(0, 1, 0))).status).toBe(BlkStatus.IoErr);
    expect((await d.blk(BlkRequestType.In, 0, undefined, 512)).status).toBe(BlkStatus.Ok);
    expect(new Uint8Array(readFileSync(path)).every((b) => b === 1)).toBe(true);
  });

  it('zeroes ranges with WRITE_ZEROES, accepts DISCARD, and answers GET_ID', async () => {
    const path = image('wz.img', 32 * 512, (b) => b.fill(9));
    const d = new MiniDriver(`${path},serial=uk-test-disk`);
    expect((await d.blk(BlkRequestType.WriteZeroes, 0, segment(4, 3, 0))).status).toBe(BlkStatus.Ok);
    const file = new Uint8Array(readFileSync(path));
    expect(file.subarray(4 * 512, 7 * 512).every((b) => b === 0)).toBe(true);
    expect(file[4 * 512 - 1]).toBe(9);
    expect(file[7 * 512]).toBe(9);
    expect((await d.blk(BlkRequestType.Discard, 0, segment(0, 2, 0))).status).toBe(BlkStatus.Ok);
    expect((await d.blk(BlkRequestType.Discard, 0, segment(0, 2, 1))).status).toBe(BlkStatus.Unsupp);
    expect((await d.blk(BlkRequestType.WriteZeroes, 0, segment(30, 3, 0))).status).toBe(BlkStatus.IoErr);
    const id = await d.blk(BlkRequestType.GetId, 0, undefined, 20);
    expect(id.status).toBe(BlkStatus.Ok);
    expect(new TextDecoder().decode(id.data).replace(/\0+$/, '')).toBe('uk-test-disk');
  });

  it('sets DEVICE_NEEDS_RESET and raises a configuration interrupt for a request without a status byte', async () => {
    const d = new MiniDriver(image('bad.img', 8 * 512));
    const hdr = BASE + 0x10_0000;
    writeBlkRequestHeader(d.view, hdr - BASE, BlkRequestType.In, 0);
    await expect(d.request([[hdr, 16, false]], 200)).rejects.toThrow(/never returned/);
    expect(d.r(MmioReg.Status) & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
    expect(d.r(MmioReg.InterruptStatus) & InterruptBit.ConfigChange).toBe(InterruptBit.ConfigChange);
    expect(d.level).toBe(true);
    expect(d.logs.join('\n')).toMatch(/lacks a 16-byte header or a status byte; the device needs a reset/);
    d.w(MmioReg.Status, 0);
    expect(d.r(MmioReg.Status)).toBe(0);
    expect(d.level).toBe(false);
  });

  it('holds the status non-zero during a reset until host I/O in flight has finished', async () => {
    const d = new MiniDriver(image('reset.img', 4096 * 512));
    const hdr = BASE + 0x10_0000;
    writeBlkRequestHeader(d.view, hdr - BASE, BlkRequestType.Flush, 0);
    // Submit without waiting, then reset at once.
    const p = d.request(
      [
        [hdr, 16, false],
        [BASE + 0x1f_f000, 1, true],
      ],
      200,
    );
    const backend = d.dev.backend;
    expect(backend?.pending).toBe(1);
    d.w(MmioReg.Status, 0);
    expect(d.r(MmioReg.Status)).not.toBe(0);
    await expect(p).rejects.toThrow(/never returned/);
    // The flush finishes on the host in its own time; the status reads 0 only after it.
    for (let i = 0; i < 1000 && backend?.pending !== 0; i++) {
      expect(d.r(MmioReg.Status)).not.toBe(0);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(backend?.pending).toBe(0);
    expect(d.r(MmioReg.Status)).toBe(0);
  });

  it('closes the image once its I/O has finished, and opens it again when the machine restarts', async () => {
    const path = image('close.img', 8 * 512);
    const d = new MiniDriver(path);
    await d.blk(BlkRequestType.Out, 0, new Uint8Array(512).fill(3));
    await d.dev.close?.();
    expect(d.dev.backend).toBeUndefined();
    // A guest reboot: the machine attaches its devices anew.
    const again = new MiniDriver(d.dev);
    expect((await again.blk(BlkRequestType.In, 0, undefined, 512)).data.every((b) => b === 3)).toBe(true);
    await again.dev.close?.();
  });
});

function segment(sector: number, count: number, flags: number): Uint8Array {
  const b = new Uint8Array(16);
  writeBlkDiscardSegment(new DataView(b.buffer), 0, sector, count, flags);
  return b;
}
