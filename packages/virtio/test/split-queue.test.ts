import fc from 'fast-check';
import type { DmaHeap } from '@uk/hal';
import { AvailField, availEventOffset, DescFlag, descAddr, descFlags, descLen, descNext, UsedField, usedEventOffset } from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { DescriptorChain, DeviceQueue, GuestMemory } from '../../vmm/src/index.js';
import { RamWindow, SplitQueue } from '../src/index.js';

const BASE = 0x8000_0000;
const RAM = 1 << 20;

function setup(size: number, opts: { eventIdx?: boolean; indirect?: boolean } = {}) {
  const bytes = new Uint8Array(new SharedArrayBuffer(RAM));
  const ram = new RamWindow({ base: BASE, size: RAM, bytes });
  let next = BASE + 0x1000;
  const freed: number[] = [];
  const dma: DmaHeap = {
    alloc(n, align = 8) {
      next = Math.ceil(next / align) * align;
      const pa = next;
      next += n;
      return pa;
    },
    free: (pa) => void freed.push(pa),
  };
  const q = new SplitQueue<string>(ram, dma, 0, size, { eventIdx: opts.eventIdx ?? false, indirect: opts.indirect ?? false });
  // The device side from @uk/vmm, over the same memory.
  const dev = new DeviceQueue(size);
  dev.size = size;
  dev.descAddr = q.descPa;
  dev.driverAddr = q.availPa;
  dev.deviceAddr = q.usedPa;
  dev.eventIdx = opts.eventIdx ?? false;
  dev.indirect = opts.indirect ?? false;
  const mem = new GuestMemory({ base: BASE, size: RAM, bytes });
  dev.activate(mem);
  return { q, dev, ram, mem, chain: new DescriptorChain(size), freed };
}

describe('SplitQueue', () => {
  it('lays a chain out as linked descriptors and publishes it in the available ring', () => {
    const { q, ram } = setup(8);
    q.begin();
    q.push(BASE + 0x10_0000, 16, false);
    q.push(BASE + 0x10_1000, 512, true);
    q.push(BASE + 0x10_2000, 1, true);
    const head = q.add('req');
    expect(head).toBe(0);
    expect(q.freeDescriptors).toBe(5);
    const off = q.descPa - BASE;
    const v = ram.view;
    expect([descAddr(v, off), descLen(v, off), descFlags(v, off), descNext(v, off)]).toEqual([BASE + 0x10_0000, 16, DescFlag.Next, 1]);
    expect([descLen(v, off + 16), descFlags(v, off + 16)]).toEqual([512, DescFlag.Next | DescFlag.Write]);
    expect([descLen(v, off + 32), descFlags(v, off + 32)]).toEqual([1, DescFlag.Write]);
    expect(v.getUint16(q.availPa - BASE + AvailField.idx, true)).toBe(1);
    expect(v.getUint16(q.availPa - BASE + AvailField.ring, true)).toBe(0);
  });

  it('puts a multi-buffer request in one indirect table when allowed', () => {
    const { q, dev, chain } = setup(16, { indirect: true });
    for (let i = 0; i < 16; i++) {
      q.begin();
      for (let k = 0; k < 10; k++) q.push(BASE + 0x8_0000 + k * 512, 512, k > 4);
      expect(q.add(`r${i}`)).toBeGreaterThanOrEqual(0);
    }
    // Sixteen requests of ten buffers each in a queue of sixteen descriptors.
    expect(q.freeDescriptors).toBe(0);
    q.begin();
    q.push(BASE, 1, false);
    expect(q.add('x')).toBe(-1);
    expect(dev.pop(chain)).toBe(true);
    expect([chain.count, chain.readable]).toEqual([10, 5]);
  });

  it('refuses a request the ring cannot hold without changing anything', () => {
    const { q } = setup(4);
    q.begin();
    for (let k = 0; k < 3; k++) q.push(BASE + k * 64, 64, false);
    q.add('a');
    q.begin();
    q.push(BASE, 8, false);
    q.push(BASE, 8, true);
    expect(q.add('b')).toBe(-1);
    expect(q.freeDescriptors).toBe(1);
    expect(q.inFlight).toBe(1);
  });

  it('hands back every request exactly once, in any completion order (against the device queue of @uk/vmm)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 8, 64),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 5 }), fc.nat()), { minLength: 1, maxLength: 300 }),
        (size, indirect, eventIdx, ops) => {
          const { q, dev, chain } = setup(size, { indirect, eventIdx });
          const inDevice: Array<[number, number]> = [];
          const returned = new Map<string, number>();
          const expected = new Map<string, number>();
          let id = 0;
          let notifications = 0;
          for (const [segs, completions, pick] of ops) {
            // Driver: add a request if it fits.
            q.begin();
            const n = Math.min(segs, size);
            for (let k = 0; k < n; k++) q.push(BASE + 0x8_0000 + k * 16, 16, k === n - 1);
            const token = `t${id++}`;
            if (q.add(token) >= 0) expected.set(token, 16);
            if (q.kickNeeded()) notifications++;
            // Device: take what is available, return some in arbitrary order.
            while (dev.pop(chain)) inDevice.push([chain.head, chain.writableBytes]);
            for (let c = 0; c < completions && inDevice.length > 0; c++) {
              const [head, len] = inDevice.splice(pick % inDevice.length, 1)[0];
              dev.push(head, len);
            }
            dev.enableNotifications();
            do q.drain((t, len) => returned.set(t, (returned.get(t) ?? 0) + len));
            while (q.enableInterrupts());
          }
          for (const [head, len] of inDevice.splice(0)) dev.push(head, len);
          q.drain((t, len) => returned.set(t, (returned.get(t) ?? 0) + len));
          expect(returned).toEqual(expected);
          expect(q.inFlight).toBe(0);
          expect(q.freeDescriptors).toBe(size);
          expect(q.broken).toBe(false);
          if (expected.size > 0) expect(notifications).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('notifies only when the device asked to hear (event index), across wrap-around', () => {
    const { q, ram } = setup(8, { eventIdx: true });
    const availEvent = q.usedPa - BASE + availEventOffset(8);
    let kicks = 0;
    for (let i = 0; i < 70_000; i++) {
      // The device wants to hear about every 4th buffer.
      ram.view.setUint16(availEvent, i - (i % 4) + 3, true);
      q.begin();
      q.push(BASE, 8, true);
      const head = q.add('x');
      if (q.kickNeeded()) kicks++;
      // Complete it directly so the ring never fills.
      const used = q.usedPa - BASE;
      ram.view.setUint32(used + UsedField.ring + 8 * (i % 8), head, true);
      ram.view.setUint16(used + UsedField.idx, (i + 1) & 0xffff, true);
      q.drain(() => {});
    }
    expect(kicks).toBe(70_000 / 4);
  });

  it('asks for an interrupt at the next used entry and reports a race', () => {
    const { q, ram, dev, chain } = setup(8, { eventIdx: true });
    q.begin();
    q.push(BASE, 8, true);
    q.add('a');
    expect(q.enableInterrupts()).toBe(false);
    expect(ram.view.getUint16(q.availPa - BASE + usedEventOffset(8), true)).toBe(0);
    dev.pop(chain);
    dev.push(chain.head, 8);
    expect(dev.needsInterrupt()).toBe(true);
    expect(q.enableInterrupts()).toBe(true);
  });

  it('marks the queue broken when the device returns a request it never had', () => {
    const { q, ram } = setup(8);
    q.begin();
    q.push(BASE, 8, true);
    q.add('a');
    const used = q.usedPa - BASE;
    ram.view.setUint32(used + UsedField.ring, 5, true);
    ram.view.setUint16(used + UsedField.idx, 1, true);
    const got: string[] = [];
    q.drain((t) => got.push(t));
    expect(got).toEqual([]);
    expect(q.broken).toBe(true);
    // The same wild index far ahead: skipped, not walked.
    ram.view.setUint16(used + UsedField.idx, 40_000, true);
    expect(q.drain(() => {})).toBe(0);
  });

  it('takes back what is outstanding and starts over after a reset', () => {
    const { q } = setup(8, { indirect: true });
    for (const t of ['a', 'b', 'c']) {
      q.begin();
      q.push(BASE, 8, false);
      q.push(BASE, 8, true);
      q.add(t);
    }
    expect(q.takeOutstanding().sort()).toEqual(['a', 'b', 'c']);
    q.resetState();
    expect(q.freeDescriptors).toBe(8);
    expect(q.inFlight).toBe(0);
  });
});
