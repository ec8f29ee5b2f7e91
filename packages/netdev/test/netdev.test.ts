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
