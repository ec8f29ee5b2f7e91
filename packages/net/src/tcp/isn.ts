/**
 * Keyed hashing for what an off-path attacker must not guess: initial sequence numbers
 * (RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock) and ephemeral port offsets
 * (RFC 6056 algorithm 3). F is HalfSipHash-2-4, the 32-bit member of the SipHash family.
 */

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/** HalfSipHash-2-4 of `n` little-endian 32-bit words under the 64-bit key (k0, k1). */
export function halfSipHash(k0: number, k1: number, words: ArrayLike<number>, n: number): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  const mix = (m: number): void => {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  };
  for (let i = 0; i < n; i++) mix(words[i] >>> 0);
  // The final block carries the length in bytes in its top byte.
  mix(((4 * n) & 255) << 24);
  v2 = (v2 ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
}

/** The secrets of one TCP instance. */
export class SequenceSecrets {
  private readonly k: Uint32Array;
  private readonly w = new Uint32Array(4);

  constructor(random: () => number) {
    this.k = Uint32Array.of(random(), random(), random(), random());
  }

  /** RFC 6528 ISN for the 4-tuple at time `now` (ms). */
  isn(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, now: number): number {
    const w = this.w;
    w[0] = localAddr;
    w[1] = remoteAddr;
    w[2] = ((localPort << 16) | remotePort) >>> 0;
    const f = halfSipHash(this.k[0], this.k[1], w, 3);
    return (Math.floor(now * 250) + f) >>> 0;
  }

  /** RFC 6056 algorithm 3: a per-destination offset into the ephemeral range. */
  portOffset(localAddr: number, remoteAddr: number, remotePort: number): number {
    const w = this.w;
    w[0] = localAddr;
    w[1] = remoteAddr;
    w[2] = remotePort;
    return halfSipHash(this.k[2], this.k[3], w, 3);
  }
}
