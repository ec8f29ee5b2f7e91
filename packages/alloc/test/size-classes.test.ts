import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLASS_COUNT, classAtLeast, classOf } from '../src/tlsf/size-classes.js';

/** The class bounds by definition: ⌊log2⌋ picks the first level, 32 equal slices the second. */
function lowerBound(c: number): number {
  if (c < 32) return c * 16;
  const f = Math.floor(c / 32) + 8;
  const sl = c % 32;
  return 2 ** f + sl * 2 ** (f - 5);
}

// Sizes (in 16-byte units) at the edges of the 32-bit fast paths.
const edges = fc.constantFrom(31, 32, 33, 2 ** 26 - 1, 2 ** 26, 2 ** 26 + 1, 2 ** 27 - 1, 2 ** 27, 2 ** 27 + 1, 2 ** 28 - 1, 2 ** 28);

describe('TLSF size classes', () => {
  // Every block size is a multiple of 16 below 2^53.
  it('file every size in the class whose range holds it, up to 2^53', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 2 ** 20 }), fc.integer({ min: 1, max: 2 ** 49 - 1 }), edges), (n) => {
        const size = n * 16;
        const c = classOf(size);
        expect(c).toBeLessThan(CLASS_COUNT);
        expect(lowerBound(c)).toBeLessThanOrEqual(size);
        expect(size).toBeLessThan(lowerBound(c + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it('classAtLeast picks the first class all of whose blocks are large enough', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 2 ** 20 }), fc.integer({ min: 1, max: 2 ** 48 }), edges), (n) => {
        const size = n * 16;
        const c = classAtLeast(size);
        expect(lowerBound(c)).toBeGreaterThanOrEqual(size);
        // and no earlier class would do: the one before starts below size
        expect(lowerBound(c - 1)).toBeLessThan(size);
      }),
    );
  });
});
