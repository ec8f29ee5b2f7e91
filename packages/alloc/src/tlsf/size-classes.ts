/**
 * TLSF's two-level segregation of free blocks by size. The first level is the power of two
 * (⌊log2 size⌋), the second splits each power-of-two range into 32 equal slices, so a list
 * index is found with one `Math.clz32` and a shift, and every list holds blocks whose sizes
 * differ by less than 1/32 of their size. Below 512 bytes the classes are exact, one per
 * 16-byte granule.
 *
 * A class index packs both levels: `fl * 32 + sl`.
 */
import { floorLog2 } from '../bits.js';

export const GRANULE_LOG2 = 4;
/** Every block size and every block address is a multiple of this. */
export const GRANULE = 1 << GRANULE_LOG2;
export const SL_LOG2 = 5;
export const SL_COUNT = 1 << SL_LOG2;
const FL_SHIFT = SL_LOG2 + GRANULE_LOG2;
const SMALL_BLOCK = 1 << FL_SHIFT;
const TWO_30 = 1073741824;
const TWO_31 = 2147483648;
const TWO_32 = 4294967296;
/** First-level classes: sizes up to 2^53 bytes. */
export const FL_COUNT = 53 - FL_SHIFT + 1;
export const CLASS_COUNT = FL_COUNT * SL_COUNT;

/** The class a free block of `size` bytes is filed under. */
export function classOf(size: number): number {
  if (size < SMALL_BLOCK) return size >>> GRANULE_LOG2;
  if (size < TWO_31) {
    const f = 31 - Math.clz32(size);
    return ((f - FL_SHIFT) << SL_LOG2) + (size >>> (f - SL_LOG2));
  }
  const f = floorLog2(size);
  const top = size < TWO_32 ? size >>> (f - SL_LOG2) : Math.floor(size / 2 ** (f - SL_LOG2));
  return (f - FL_SHIFT) * SL_COUNT + top;
}

/**
 * The first class whose every block holds at least `size` bytes (the request rounded up to
 * the next slice boundary), or CLASS_COUNT when there is none.
 */
export function classAtLeast(size: number): number {
  if (size < SMALL_BLOCK) return size >>> GRANULE_LOG2;
  if (size < TWO_30) return classOf(size + (1 << (31 - Math.clz32(size) - SL_LOG2)) - 1);
  const f = floorLog2(size);
  const rounded = size + 2 ** (f - SL_LOG2) - 1;
  return rounded >= 2 ** 53 ? CLASS_COUNT : Math.min(classOf(rounded), CLASS_COUNT);
}
