import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availEventOffset,
  BLK_CONFIG_SIZE,
  blkDiscardFlags,
  blkDiscardNumSectors,
  blkDiscardSector,
  blkRequestSector,
  blkRequestType,
  BlkRequestType,
  decodeBlkConfig,
  decodeNetConfig,
  descAddr,
  descFlags,
  descLen,
  descNext,
  DescFlag,
  describeStatus,
  encodeBlkConfig,
  encodeNetConfig,
  Feature,
  featureBits,
  featureWord,
  hasFeature,
  indexDistance,
  isValidQueueSize,
  MMIO_MAGIC,
  needEvent,
  newNetHeader,
  readNetHeader,
  splitRingLayout,
  Status,
  usedEventOffset,
  withFeatureWord,
  writeBlkDiscardSegment,
  writeBlkRequestHeader,
  writeDesc,
  writeNetHeader,
} from '../src/index.js';

describe('virtio-mmio constants', () => {
  it('spells "virt" in little-endian as the magic value', () => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, MMIO_MAGIC, true);
    expect(new TextDecoder().decode(b)).toBe('virt');
  });

  it('names status bits', () => {
    expect(describeStatus(0)).toBe('RESET');
    expect(describeStatus(Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk)).toBe('ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK');
    expect(describeStatus(Status.DeviceNeedsReset | 0x10)).toBe('DEVICE_NEEDS_RESET|0x10');
  });
});

describe('feature words', () => {
  it('splits and joins 64-bit feature sets through two 32-bit registers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (f) => {
        const lo = featureWord(f, 0);
        const hi = featureWord(f, 1);
        expect(withFeatureWord(withFeatureWord(0n, 0, lo), 1, hi)).toBe(f);
        expect(featureWord(f, 2)).toBe(0);
      }),
    );
  });

  it('puts VERSION_1 in the high word', () => {
    const f = featureBits(Feature.Version1, Feature.RingEventIdx);
    expect(featureWord(f, 1)).toBe(1);
    expect(featureWord(f, 0)).toBe(1 << 29);
    expect(hasFeature(f, Feature.RingIndirectDesc)).toBe(false);
    expect(hasFeature(f, Feature.Version1)).toBe(true);
  });
});

describe('split ring layout', () => {
  it('accepts only powers of two up to 32768 as queue sizes', () => {
    expect([1, 2, 256, 32768].every(isValidQueueSize)).toBe(true);
    expect([0, 3, 100, 65536, -2, 1.5].some(isValidQueueSize)).toBe(false);
  });

  it('places the three areas aligned and without overlap', () => {
    for (let n = 1; n <= 32768; n *= 2) {
      const l = splitRingLayout(n);
      expect(l.avail).toBe(16 * n);
      expect(l.used % 4).toBe(0);
      expect(l.used).toBeGreaterThanOrEqual(l.avail + 6 + 2 * n);
      expect(l.bytes).toBe(l.used + 6 + 8 * n);
      expect(usedEventOffset(n)).toBe(4 + 2 * n);
      expect(availEventOffset(n)).toBe(4 + 8 * n);
    }
  });

  it('reads back a descriptor as written', () => {
    const v = new DataView(new ArrayBuffer(64));
    writeDesc(v, 16, 0x1_2345_6789, 4096, DescFlag.Next | DescFlag.Write, 7);
    expect(descAddr(v, 16)).toBe(0x1_2345_6789);
    expect(descLen(v, 16)).toBe(4096);
    expect(descFlags(v, 16)).toBe(3);
    expect(descNext(v, 16)).toBe(7);
    v.setUint32(16 + 4, 0xffff_ffff, true);
    expect(descAddr(v, 16)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('needEvent', () => {
  // The reference: walk the indexes from old to next one by one and see whether event is passed.
  const slow = (event: number, next: number, old: number) => {
    for (let i = old; i !== next; i = (i + 1) & 0xffff) if (i === event) return true;
    return false;
  };

  it('signals exactly when the event index lies in [old, next), across wrap-around', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 300 }), (event, old, step) => {
        const next = (old + step) & 0xffff;
        expect(needEvent(event, next, old)).toBe(slow(event, next, old));
      }),
    );
  });

  it('handles the edges', () => {
    expect(needEvent(0xffff, 0, 0xffff)).toBe(true);
    expect(needEvent(0, 0, 0xffff)).toBe(false);
    expect(needEvent(5, 5, 5)).toBe(false);
    expect(indexDistance(0xfffe, 2)).toBe(4);
  });
});

describe('virtio-blk layouts', () => {
  it('round-trips a request header and a discard segment', () => {
    const v = new DataView(new ArrayBuffer(32));
    writeBlkRequestHeader(v, 0, BlkRequestType.Out, 2 ** 40 + 3);
    expect(blkRequestType(v, 0)).toBe(1);
    expect(blkRequestSector(v, 0)).toBe(2 ** 40 + 3);
    writeBlkDiscardSegment(v, 16, 12345, 8, 1);
    expect([blkDiscardSector(v, 16), blkDiscardNumSectors(v, 16), blkDiscardFlags(v, 16)]).toEqual([12345, 8, 1]);
  });

  it('round-trips the configuration space', () => {
    const bytes = encodeBlkConfig({ capacity: 2 ** 33, sizeMax: 65536, segMax: 254, blkSize: 4096, maxDiscardSectors: 1 << 20, maxDiscardSeg: 1 });
    expect(bytes.length).toBe(BLK_CONFIG_SIZE);
    expect(new DataView(bytes.buffer).getUint32(20, true)).toBe(4096);
    const c = decodeBlkConfig(bytes);
    expect(c).toMatchObject({ capacity: 2 ** 33, sizeMax: 65536, segMax: 254, blkSize: 4096, maxDiscardSectors: 1 << 20, maxDiscardSeg: 1 });
  });
});

describe('virtio-net layouts', () => {
  it('round-trips a header and the configuration space', () => {
    const v = new DataView(new ArrayBuffer(12));
    const h = { ...newNetHeader(), flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 16, numBuffers: 1 };
    writeNetHeader(v, 0, h);
    expect(readNetHeader(v, 0, newNetHeader())).toEqual(h);
    const mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);
    const c = decodeNetConfig(encodeNetConfig({ mac, status: 1, mtu: 1500 }));
    expect([...c.mac]).toEqual([...mac]);
    expect(c).toMatchObject({ status: 1, mtu: 1500, maxVirtqueuePairs: 1 });
  });
});
