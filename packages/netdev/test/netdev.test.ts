import { describe, expect, it } from 'vitest';
import { bufFrom, chainLength, consume, flatten, heapBuf, LoopbackDevice, type NetBuf, payload, prepend } from '../src/index.js';

describe('packet buffers', () => {
  it('prepend writes headers into headroom and consume drops them, without copying', () => {
    const b = bufFrom(Uint8Array.of(9, 9, 9), 8);
    expect(prepend(b, 2)).toBe(true);
    payload(b).set([1, 2]);
    expect([...payload(b)]).toEqual([1, 2, 9, 9, 9]);
    consume(b, 2);
    expect([...payload(b)]).toEqual([9, 9, 9]);
    expect(prepend(b, 100)).toBe(false);
    expect(() => consume(b, 4)).toThrow(RangeError);
  });

  it('chains flatten in order', () => {
    const a = bufFrom(Uint8Array.of(1, 2));
    a.next = bufFrom(Uint8Array.of(3));
    expect(chainLength(a)).toBe(3);
    expect([...flatten(a)]).toEqual([1, 2, 3]);
    expect(heapBuf(5, 10).store.length).toBe(15);
  });
});

describe('the loopback device', () => {
  it('delivers what it transmits, later, and counts it', async () => {
    const lo = new LoopbackDevice();
    const got: NetBuf[] = [];
    lo.setReceiver((f) => got.push(f));
    expect(lo.transmit([bufFrom(Uint8Array.of(1)), bufFrom(Uint8Array.of(2, 3))])).toBe(2);
    expect(got).toHaveLength(0);
    await Promise.resolve();
    expect(got.map((f) => [...payload(f)])).toEqual([[1], [2, 3]]);
    expect(lo.stats).toMatchObject({ txPackets: 2, rxPackets: 2, txBytes: 3, rxBytes: 3, notifications: 1 });
  });
});

describe('the loopback device, further', () => {
  it('drops what arrives before a receiver is set, and delivers a batch in order after', async () => {
    const lo = new LoopbackDevice();
    lo.transmit([bufFrom(Uint8Array.of(1))]);
    await Promise.resolve();
    expect(lo.stats.rxDropped).toBe(1);
    const got: number[] = [];
    lo.setReceiver((f) => {
      got.push(payload(f)[0]);
      f.release();
    });
    lo.transmit([bufFrom(Uint8Array.of(2))]);
    lo.transmit([bufFrom(Uint8Array.of(3)), bufFrom(Uint8Array.of(4))]);
    expect(got).toEqual([]);
    await Promise.resolve();
    expect(got).toEqual([2, 3, 4]);
    expect(lo.stats.notifications).toBe(3);
  });

  it('lends buffers with the headroom asked for, and keeps its offloads and MTU', () => {
    const lo = new LoopbackDevice('lo1', 9000);
    const b = lo.allocTx(100, 30);
    expect([b.offset, b.length, b.store.length, b.phys]).toEqual([30, 100, 130, -1]);
    expect(prepend(b, 30)).toBe(true);
    expect([lo.name, lo.mtu, lo.linkUp, lo.txHeadroom]).toEqual(['lo1', 9000, true, 0]);
    expect(lo.offloads).toEqual({ txChecksum: true, rxChecksumVerified: true });
  });
});

