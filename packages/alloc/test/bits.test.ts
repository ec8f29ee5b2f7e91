import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignDown, alignUp, ceilLog2, floorLog2, formatBytes, hex, isPowerOfTwo, lowestBit } from '../src/bits.js';

describe('integer arithmetic on addresses', () => {
  it('floorLog2 and ceilLog2 agree with exact powers of two up to 2^53', () => {
    for (let k = 0; k < 53; k++) {
      expect(floorLog2(2 ** k)).toBe(k);
      expect(ceilLog2(2 ** k)).toBe(k);
      if (k > 1) {
        expect(floorLog2(2 ** k - 1)).toBe(k - 1);
        expect(ceilLog2(2 ** k + 1)).toBe(k + 1);
      }
    }
  });

  it('floorLog2 brackets every safe integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const f = floorLog2(n);
        expect(2 ** f <= n && n < 2 ** (f + 1)).toBe(true);
      }),
    );
  });

  it('isPowerOfTwo, lowestBit, alignUp/alignDown', () => {
    expect(isPowerOfTwo(4096)).toBe(true);
    expect(isPowerOfTwo(2 ** 52)).toBe(true);
    expect(isPowerOfTwo(0)).toBe(false);
    expect(isPowerOfTwo(12)).toBe(false);
    expect(isPowerOfTwo(1.5)).toBe(false);
    expect(lowestBit(0)).toBe(32);
    expect(lowestBit(0x40)).toBe(6);
    expect(lowestBit(-1 << 31)).toBe(31);
    expect(alignUp(2 ** 52 + 1, 4096)).toBe(2 ** 52 + 4096);
    expect(alignDown(2 ** 52 + 4095, 4096)).toBe(2 ** 52);
  });

  it('prints addresses in hex and sizes in binary units', () => {
    expect(hex(0x8000_1000)).toBe('0x80001000');
    expect(hex(2 ** 52)).toBe('0x10000000000000');
    expect(formatBytes(4096)).toBe('4 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2 ** 30)).toBe('1 GiB');
  });
});
