import { describe, expect, it } from 'vitest';
import { normalizeRegions, totalSize } from '../src/index.js';
import { expectError } from './expect-error.js';

describe('normalizeRegions', () => {
  it('sorts, joins adjacent pieces, trims to the granule and drops what is left empty', () => {
    const out = normalizeRegions(
      [
        { base: 0x8040_0000, size: 0x1000 },
        { base: 0x8000_0100, size: 0x3f_ff00 },
        { base: 0x9000_0000, size: 0x800 },
        { base: 0x8100_0000, size: 0 },
      ],
      4096,
    );
    expect(out).toEqual([{ base: 0x8000_1000, size: 0x40_0000 }]);
    expect(totalSize(out)).toBe(0x40_0000);
  });

  it('refuses overlapping regions and ranges past 2^53', () => {
    expectError(
      () =>
        normalizeRegions(
          [
            { base: 0x8000_0000, size: 0x2000 },
            { base: 0x8000_1000, size: 0x2000 },
          ],
          4096,
        ),
      'EINVAL',
      /overlap: 0x80000000–0x80002000 and 0x80001000–0x80003000/,
    );
    expectError(() => normalizeRegions([{ base: 2 ** 53 - 4096, size: 8192 }], 4096), 'EINVAL', /below 2\^53/);
    expectError(() => normalizeRegions([{ base: -1, size: 10 }], 4096), 'EINVAL', /not a range/);
  });
});
