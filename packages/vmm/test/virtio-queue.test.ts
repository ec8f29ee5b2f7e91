import {
  AVAIL_F_NO_INTERRUPT,
  availEntryOffset,
  availEventOffset,
  DescFlag,
  splitRingLayout,
  usedEntryOffset,
  usedEventOffset,
  writeDesc,
} from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { DescriptorChain, DeviceQueue, GuestMemory, VirtioFault } from '../src/index.js';

const BASE = 0x8000_0000;
const RAM = 1 << 20;
const RING = BASE + 0x1000;

/** A queue of `size` laid out at RING, driven by hand through guest memory. */
function setup(size = 8, opts: { eventIdx?: boolean; indirect?: boolean } = {}) {
  const bytes = new Uint8Array(RAM);
  const mem = new GuestMemory({ base: BASE, size: RAM, bytes });
  const v = mem.view;
  const l = splitRingLayout(size);
  const q = new DeviceQueue(256);
  q.size = size;
  q.descAddr = RING + l.desc;
  q.driverAddr = RING + l.avail;
  q.deviceAddr = RING + l.used;
  q.eventIdx = opts.eventIdx ?? false;
  q.indirect = opts.indirect ?? false;
  q.activate(mem);
  const off = (pa: number) => pa - BASE;
  let avail = 0;
  return {
    mem,
    q,
    v,
    chain: new DescriptorChain(256),
    desc(i: number, addr: number, len: number, flags: number, next = 0, table = RING + l.desc) {
      writeDesc(v, off(table) + 16 * i, addr, len, flags, next);
    },
    offer(head: number) {
      v.setUint16(off(RING + l.avail) + availEntryOffset(avail % size), head, true);
      avail = (avail + 1) & 0xffff;
      v.setUint16(off(RING + l.avail) + 2, avail, true);
    },
    setAvailIdx(n: number) {
      avail = n & 0xffff;
      v.setUint16(off(RING + l.avail) + 2, avail, true);
    },
    usedIdx: () => v.getUint16(off(RING + l.used) + 2, true),
    usedEntry: (i: number) => [v.getUint32(off(RING + l.used) + usedEntryOffset(i), true), v.getUint32(off(RING + l.used) + usedEntryOffset(i) + 4, true)],
    setUsedEvent: (n: number) => v.setUint16(off(RING + l.avail) + usedEventOffset(size), n, true),
    availEvent: () => v.getUint16(off(RING + l.used) + availEventOffset(size), true),
    setAvailFlags: (f: number) => v.setUint16(off(RING + l.avail), f, true),
  };
}

const BUF = BASE + 0x10000;

describe('DeviceQueue setup', () => {
  it('refuses rings that are misaligned, outside RAM or of a bad size', () => {
    const mem = new GuestMemory({ base: BASE, size: RAM, bytes: new Uint8Array(RAM) });
    const q = new DeviceQueue(256);
    const l = splitRingLayout(8);
    const ok = () => {
      q.size = 8;
      q.descAddr = RING;
      q.driverAddr = RING + l.avail;
      q.deviceAddr = RING + l.used;
    };
    ok();
    q.descAddr = RING + 8;
    expect(() => q.activate(mem)).toThrow(/descriptor table at 0x80001008 is not 16-byte aligned/);
    ok();
    q.deviceAddr = BASE + RAM - 8;
    expect(() => q.activate(mem)).toThrow(/device area .* is not inside RAM/);
    ok();
    q.driverAddr = 0x1000;
    expect(() => q.activate(mem)).toThrow(VirtioFault);
    ok();
    q.size = 12;
    expect(() => q.activate(mem)).toThrow(/queue size 12/);
    ok();
    q.size = 512;
    expect(() => q.activate(mem)).toThrow(/queue size 512/);
    ok();
    q.activate(mem);
    expect(q.ready).toBe(true);
  });
});

describe('DeviceQueue chains', () => {
  it('pops a chain of readable then writable buffers as RAM offsets', () => {
    const r = setup();
    r.desc(3, BUF, 16, DescFlag.Next, 5);
    r.desc(5, BUF + 100, 512, DescFlag.Next | DescFlag.Write, 1);
    r.desc(1, BUF + 1000, 1, DescFlag.Write);
    r.offer(3);
    expect(r.q.pop(r.chain)).toBe(true);
    const c = r.chain;
    expect([c.head, c.count, c.readable, c.readableBytes, c.writableBytes]).toEqual([3, 3, 1, 16, 513]);
    expect([...c.offset.subarray(0, 3)]).toEqual([0x10000, 0x10064, 0x103e8]);
    expect(c.writableOffset(512)).toBe(0x103e8);
    expect(r.q.pop(r.chain)).toBe(false);
  });

  it('follows an indirect table', () => {
    const r = setup(8, { indirect: true });
    const table = BASE + 0x20000;
    r.desc(0, BUF, 16, DescFlag.Next, 1, table);
    r.desc(1, BUF + 16, 4096, DescFlag.Next | DescFlag.Write, 2, table);
    r.desc(2, BUF + 8192, 1, DescFlag.Write, 0, table);
    r.desc(6, table, 48, DescFlag.Indirect);
    r.offer(6);
    expect(r.q.pop(r.chain)).toBe(true);
    expect([r.chain.head, r.chain.count, r.chain.readable, r.chain.writableBytes]).toEqual([6, 3, 1, 4097]);
  });

  const faults: Array<[string, (r: ReturnType<typeof setup>) => void, RegExp]> = [
    [
      'a loop',
      (r) => {
        r.desc(0, BUF, 8, DescFlag.Next, 1);
        r.desc(1, BUF, 8, DescFlag.Next, 0);
        r.offer(0);
      },
      /loops/,
    ],
    ['a link outside the table', (r) => (r.desc(0, BUF, 8, DescFlag.Next, 8), r.offer(0)), /links to 8/],
    ['a head outside the table', (r) => r.offer(9), /names descriptor 9/],
    ['a buffer outside RAM', (r) => (r.desc(0, BASE + RAM - 4, 8, 0), r.offer(0)), /not inside RAM/],
    ['a buffer below RAM', (r) => (r.desc(0, 0x1000, 8, 0), r.offer(0)), /not inside RAM/],
    ['a 64-bit address', (r) => (r.desc(0, 2 ** 60, 8, 0), r.offer(0)), /not inside RAM/],
    [
      'a readable buffer after a writable one',
      (r) => {
        r.desc(0, BUF, 8, DescFlag.Next | DescFlag.Write, 1);
        r.desc(1, BUF, 8, 0);
        r.offer(0);
      },
      /readable buffer after a device-writable/,
    ],
    ['an indirect descriptor without the feature', (r) => (r.desc(0, BUF, 16, DescFlag.Indirect), r.offer(0)), /RING_INDIRECT_DESC was not negotiated/],
    ['an available index far ahead', (r) => r.setAvailIdx(9), /9 entries ahead in a queue of 8/],
    [
      'a head given twice',
      (r) => {
        r.desc(0, BUF, 8, 0);
        r.offer(0);
        r.offer(0);
      },
      /made available again/,
    ],
  ];
  for (const [what, build, msg] of faults) {
    it(`faults on ${what}`, () => {
      const r = setup();
      build(r);
      expect(() => {
        while (r.q.pop(r.chain));
      }).toThrow(msg);
    });
  }

  const indirectFaults: Array<[string, (r: ReturnType<typeof setup>, table: number) => void, RegExp]> = [
    ['nested tables', (r, t) => (r.desc(0, t, 16, DescFlag.Indirect, 0, t), r.desc(0, t, 16, DescFlag.Indirect), r.offer(0)), /inside an indirect table/],
    ['INDIRECT with NEXT', (r, t) => (r.desc(0, t, 16, DescFlag.Indirect | DescFlag.Next, 1), r.offer(0)), /both INDIRECT and NEXT/],
    ['a table length that is not whole descriptors', (r, t) => (r.desc(0, t, 20, DescFlag.Indirect), r.offer(0)), /not a non-zero multiple/],
    ['a table larger than the queue', (r, t) => (r.desc(0, t, 16 * 9, DescFlag.Indirect), r.offer(0)), /more than the queue size/],
    ['a table outside RAM', (r) => (r.desc(0, BASE + RAM - 16, 32, DescFlag.Indirect), r.offer(0)), /indirect table .* not inside RAM/],
    ['an indirect descriptor after the head', (r, t) => (r.desc(0, BUF, 8, DescFlag.Next, 1), r.desc(1, t, 16, DescFlag.Indirect), r.offer(0)), /after the head/],
    [
      'a loop inside a table',
      (r, t) => {
        r.desc(0, BUF, 8, DescFlag.Next, 1, t);
        r.desc(1, BUF, 8, DescFlag.Next, 0, t);
        r.desc(0, t, 32, DescFlag.Indirect);
        r.offer(0);
      },
      /loops/,
    ],
  ];
  for (const [what, build, msg] of indirectFaults) {
    it(`faults on ${what}`, () => {
      const r = setup(8, { indirect: true });
      build(r, BASE + 0x30000);
      expect(() => r.q.pop(r.chain)).toThrow(msg);
    });
  }
});

describe('DeviceQueue used ring and suppression', () => {
  it('returns chains through the used ring', () => {
    const r = setup();
    r.desc(2, BUF, 8, DescFlag.Write);
    r.offer(2);
    r.q.pop(r.chain);
    r.q.push(2, 8);
    expect(r.usedIdx()).toBe(1);
    expect(r.usedEntry(0)).toEqual([2, 8]);
    // A head not in flight is not returned twice.
    r.q.push(2, 8);
    expect(r.usedIdx()).toBe(1);
  });

  it('interrupts unless NO_INTERRUPT is set (without event index)', () => {
    const r = setup();
    r.desc(0, BUF, 8, DescFlag.Write);
    r.offer(0);
    r.q.pop(r.chain);
    r.q.push(0, 0);
    expect(r.q.needsInterrupt()).toBe(true);
    expect(r.q.needsInterrupt()).toBe(false);
    r.setAvailFlags(AVAIL_F_NO_INTERRUPT);
    r.offer(0);
    r.q.pop(r.chain);
    r.q.push(0, 0);
    expect(r.q.needsInterrupt()).toBe(false);
  });

  it('interrupts when used_event is passed, across 16-bit wrap-around', () => {
    const r = setup(4, { eventIdx: true });
    r.desc(0, BUF, 8, DescFlag.Write);
    let interrupts = 0;
    // Driver asks for an interrupt only every 3rd buffer: used_event = index of that buffer.
    for (let i = 0; i < 70_000; i++) {
      r.setUsedEvent((Math.floor(i / 3) * 3 + 2) & 0xffff);
      r.offer(0);
      expect(r.q.pop(r.chain)).toBe(true);
      r.q.push(0, 8);
      if (r.q.needsInterrupt()) interrupts++;
    }
    expect(interrupts).toBe(Math.floor(70_000 / 3));
  });

  it('publishes avail_event when it asks for notifications again', () => {
    const r = setup(8, { eventIdx: true });
    r.desc(0, BUF, 8, 0);
    r.offer(0);
    r.q.pop(r.chain);
    expect(r.q.enableNotifications()).toBe(false);
    expect(r.availEvent()).toBe(1);
    r.q.push(0, 0);
    r.offer(0);
    expect(r.q.enableNotifications()).toBe(true);
  });
});
