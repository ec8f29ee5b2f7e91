/**
 * A small seeded generator (xorshift32) for protocol identifiers: IP ids, ephemeral ports,
 * DHCP transaction ids, DNS query ids and jitter. Not cryptographic; seed it from something
 * that differs between boots (the clock) so that ids are not the same every time.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}
