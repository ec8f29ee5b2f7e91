/** Big-endian loads and stores on byte arrays: a DTB is big-endian throughout. */

export function be32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function be64(b: Uint8Array, off: number): bigint {
  return (BigInt(be32(b, off)) << 32n) | BigInt(be32(b, off + 4));
}

export function putBe32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function putBe64(b: Uint8Array, off: number, v: bigint): void {
  putBe32(b, off, Number(v >> 32n));
  putBe32(b, off + 4, Number(v & 0xffffffffn));
}
