/** What a byte histogram says about a sample that should be uniform. */
export interface ByteHistogram {
  /** Byte values that occur at least once (of 256). */
  readonly distinct: number;
  /** Pearson's chi-square against the uniform distribution, 255 degrees of freedom. */
  readonly chiSquare: number;
  /** Every byte is zero (or there are none): the source delivered nothing. */
  readonly allZero: boolean;
}

/**
 * The chi-square value above which a uniform source is rejected: 255 degrees of freedom at
 * p = 1e-6 (Wilson–Hilferty), so that a good source fails about once in a million runs.
 */
export const CHI_SQUARE_LIMIT = 377;

/** The fewest bytes for which the chi-square test means something (5 expected per value). */
export const MIN_SAMPLE = 256 * 5;

export function byteHistogram(bytes: Uint8Array): ByteHistogram {
  const counts = new Uint32Array(256);
  for (const b of bytes) counts[b]++;
  const expected = bytes.length / 256;
  let chiSquare = 0;
  let distinct = 0;
  for (const c of counts) {
    if (c > 0) distinct++;
    chiSquare += (c - expected) ** 2 / expected;
  }
  return { distinct, chiSquare: bytes.length === 0 ? 0 : chiSquare, allZero: counts[0] === bytes.length };
}
