/**
 * IPv4 addresses are unsigned 32-bit numbers (host order in a JS number): cheap to compare,
 * hash and mask, and no allocation per packet.
 */
export type Ipv4Address = number;

export const IPV4_ANY: Ipv4Address = 0;
export const IPV4_BROADCAST: Ipv4Address = 0xffff_ffff;

/** Parses dotted-quad text; undefined when it is not exactly four numbers 0..255. */
export function parseIpv4(text: string): Ipv4Address | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let a = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    a = a * 256 + n;
  }
  return a >>> 0;
}

export function formatIpv4(a: Ipv4Address): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** A prefix length as a mask (24 → 0xffffff00). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

export function readIpv4(b: Uint8Array, off: number): Ipv4Address {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function writeIpv4(b: Uint8Array, off: number, a: Ipv4Address): void {
  b[off] = a >>> 24;
  b[off + 1] = (a >>> 16) & 255;
  b[off + 2] = (a >>> 8) & 255;
  b[off + 3] = a & 255;
}
