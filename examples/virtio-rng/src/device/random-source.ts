import { randomFillSync } from 'node:crypto';

/** Where the device's bytes come from: fills every byte of the view it is given. */
export type RandomSource = (into: Uint8Array) => void;

/** The host's cryptographically secure generator (what a real virtio-rng device passes on). */
export const cryptoSource: RandomSource = (into) => {
  randomFillSync(into);
};

/**
 * A deterministic stream for tests: the same seed gives the same bytes, however they are
 * split into requests. A PCG-style 32-bit generator (LCG state, xorshift-multiply output):
 * uniform enough for a histogram, and no source of secrets.
 */
export function seededSource(seed: number): RandomSource {
  let state = seed >>> 0;
  let word = 0;
  let left = 0;
  const step = (): number => {
    state = (Math.imul(state, 747_796_405) + 2_891_336_453) >>> 0;
    const w = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277_803_737) >>> 0;
    return ((w >>> 22) ^ w) >>> 0;
  };
  return (into) => {
    for (let i = 0; i < into.length; i++) {
      if (left === 0) {
        word = step();
        left = 4;
      }
      into[i] = word & 0xff;
      word >>>= 8;
      left--;
    }
  };
}
