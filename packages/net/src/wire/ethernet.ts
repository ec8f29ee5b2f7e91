/**
 * Ethernet II frames (IEEE 802.3 with an EtherType, no FCS): destination, source, type.
 * Functions take the bytes and the offset of the frame, so nothing is allocated per packet.
 */
export const ETH_HEADER_LEN = 14;

export const EtherType = { IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd, VLAN: 0x8100 } as const;

/** Six bytes. */
export type MacAddress = Uint8Array;

export function macBroadcast(): MacAddress {
  return new Uint8Array(6).fill(0xff);
}

/** A frame of `length` bytes at `off` is long enough to hold the header. */
export function checkEthernet(length: number): boolean {
  return length >= ETH_HEADER_LEN;
}

export function ethType(b: Uint8Array, off: number): number {
  return (b[off + 12] << 8) | b[off + 13];
}

/** A view of the destination address (no copy). */
export function ethDst(b: Uint8Array, off: number): Uint8Array {
  return b.subarray(off, off + 6);
}

export function ethSrc(b: Uint8Array, off: number): Uint8Array {
  return b.subarray(off + 6, off + 12);
}

export function emitEthernet(b: Uint8Array, off: number, dst: MacAddress, src: MacAddress, type: number): void {
  b.set(dst.subarray(0, 6), off);
  b.set(src.subarray(0, 6), off + 6);
  b[off + 12] = type >> 8;
  b[off + 13] = type & 255;
}

/** The group bit: broadcast and multicast. */
export function isGroupMac(b: Uint8Array, off: number): boolean {
  return (b[off] & 1) === 1;
}

export function isBroadcastMac(b: Uint8Array, off: number): boolean {
  return (b[off] & b[off + 1] & b[off + 2] & b[off + 3] & b[off + 4] & b[off + 5]) === 0xff;
}

export function macEquals(a: Uint8Array, aOff: number, mac: MacAddress): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== mac[i]) return false;
  return true;
}

export function formatMac(mac: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(mac[off + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** "52:54:00:12:34:56" → bytes; undefined if it is not six hex pairs. */
export function parseMac(text: string): MacAddress | undefined {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}
