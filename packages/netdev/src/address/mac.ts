/** "52:54:00:12:34:56": six bytes as a person writes them. */
export function formatMac(mac: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i === 0 ? '' : ':') + (mac[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** Six bytes from "52:54:00:12:34:56" (or with '-'); null when it is not a MAC address. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6) return null;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i])) return null;
    mac[i] = Number.parseInt(parts[i], 16);
  }
  return mac;
}

/** Group (multicast or broadcast) addresses have the low bit of the first byte set. */
export function isMulticastMac(mac: Uint8Array, at = 0): boolean {
  return (mac[at] & 1) !== 0;
}
