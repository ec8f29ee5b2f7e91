/** MAC addresses as the VMM handles them: six bytes, written "52:54:00:12:34:56". */

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Six bytes from "52:54:00:12:34:56" (or with '-'); null when the text is not a MAC address. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

/** Group addresses (multicast, broadcast) have the low bit of the first byte set. */
export function isGroupMac(frame: Uint8Array, at = 0): boolean {
  return (frame[at] & 1) !== 0;
}

/**
 * The default MAC of the NIC on virtio-mmio slot `slot`: QEMU's 52:54:00:12:34:56 for the
 * first, counting up, so a guest's interfaces keep their addresses from run to run.
 */
export function defaultMac(slot: number): Uint8Array {
  return Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, (0x56 + slot) & 0xff);
}
