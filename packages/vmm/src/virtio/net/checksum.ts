/**
 * Transport checksums of Ethernet frames on the device side: finishing the partial checksum
 * of a frame the guest sent with NEEDS_CSUM (VIRTIO_NET_F_CSUM), and verifying those of
 * frames for the guest so they can be marked DATA_VALID (VIRTIO_NET_F_GUEST_CSUM).
 */

/** The unfolded ones'-complement sum of big-endian 16-bit words of bytes [from, to). */
export function onesSum(b: Uint8Array, from: number, to: number, initial = 0): number {
  let sum = initial;
  let i = from;
  const even = to - ((to - from) & 1);
  for (; i < even; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < to) sum += b[i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x1_0000);
  return sum;
}

/**
 * Stores the checksum of frame[start..len) at start + offset, where the guest left the
 * pseudo-header sum (virtio 1.2 §5.1.6.2). False when the field lies outside the frame.
 */
export function finishPartialChecksum(frame: Uint8Array, len: number, start: number, offset: number): boolean {
  const at = start + offset;
  if (at + 2 > len) return false;
  const c = ~fold(onesSum(frame, start, len)) & 0xffff || 0xffff;
  frame[at] = c >> 8;
  frame[at + 1] = c & 0xff;
  return true;
}

/**
 * Whether frame[0..len) is a whole TCP or UDP datagram over IPv4 or IPv6 whose checksum is
 * right (what DATA_VALID vouches for). Anything else — other protocols, fragments, a wrong
 * checksum — is false: the guest checks it itself.
 */
export function hasValidTransportChecksum(frame: Uint8Array, len: number): boolean {
  let ip = 14;
  if (len < ip) return false;
  let type = (frame[12] << 8) | frame[13];
  if (type === 0x8100) {
    ip += 4;
    if (len < ip) return false;
    type = (frame[16] << 8) | frame[17];
  }
  let proto: number;
  let l4: number;
  let end: number;
  let pseudo: number;
  if (type === 0x0800) {
    if (ip + 20 > len || frame[ip] >> 4 !== 4) return false;
    const ihl = (frame[ip] & 0xf) * 4;
    const total = (frame[ip + 2] << 8) | frame[ip + 3];
    if (((frame[ip + 6] & 0x3f) | frame[ip + 7]) !== 0) return false;
    proto = frame[ip + 9];
    if ((proto !== 6 && proto !== 17) || ihl < 20 || total < ihl || ip + total > len) return false;
    l4 = ip + ihl;
    end = ip + total;
    // A UDP datagram without a checksum has nothing to verify.
    if (proto === 17 && l4 + 8 <= end && frame[l4 + 6] === 0 && frame[l4 + 7] === 0) return false;
    pseudo = onesSum(frame, ip + 12, ip + 20) + proto + (end - l4);
  } else if (type === 0x86dd) {
    if (ip + 40 > len || frame[ip] >> 4 !== 6) return false;
    proto = frame[ip + 6];
    if (proto !== 6 && proto !== 17) return false;
    l4 = ip + 40;
    end = l4 + ((frame[ip + 4] << 8) | frame[ip + 5]);
    if (end > len) return false;
    pseudo = onesSum(frame, ip + 8, ip + 40) + proto + (end - l4);
  } else return false;
  if (end - l4 < (proto === 6 ? 20 : 8)) return false;
  return fold(onesSum(frame, l4, end, pseudo)) === 0xffff;
}
