/**
 * Test frames: Ethernet II with the local experimental EtherType 0x88b5, a sequence number
 * and a pattern that depends on both, so any lost, reordered or corrupted byte shows.
 */
export const ETHERTYPE_TEST = 0x88b5;

export function testFrame(dst: Uint8Array, src: Uint8Array, seq: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = ETHERTYPE_TEST >> 8;
  f[13] = ETHERTYPE_TEST & 0xff;
  new DataView(f.buffer).setUint32(14, seq, false);
  for (let i = 18; i < size; i++) f[i] = (seq * 7 + i * 13) & 0xff;
  return f;
}

export function frameSeq(f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(14, false);
}

/** A UDP/IPv4 frame from 10.0.0.1:1234 to 10.0.0.2:5678; `partial` leaves the pseudo-header sum in the checksum field (CHECKSUM_PARTIAL). */
export function udpFrame(dst: Uint8Array, src: Uint8Array, payload: Uint8Array, opts: { partial?: boolean; corrupt?: boolean } = {}): Uint8Array {
  const ipLen = 20 + 8 + payload.length;
  const f = new Uint8Array(14 + ipLen);
  const v = new DataView(f.buffer);
  f.set(dst, 0);
  f.set(src, 6);
  v.setUint16(12, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  v.setUint16(ip + 2, ipLen);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], ip + 12);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += v.getUint16(ip + i);
  v.setUint16(ip + 10, ~fold(s) & 0xffff);
  const udp = ip + 20;
  v.setUint16(udp, 1234);
  v.setUint16(udp + 2, 5678);
  v.setUint16(udp + 4, 8 + payload.length);
  f.set(payload, udp + 8);
  const pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8 + payload.length;
  if (opts.partial) v.setUint16(udp + 6, fold(pseudo));
  else {
    let sum = pseudo;
    for (let i = udp; i < f.length; i += 2) sum += (f[i] << 8) | (i + 1 < f.length ? f[i + 1] : 0);
    v.setUint16(udp + 6, ~fold(sum) & 0xffff || 0xffff);
  }
  if (opts.corrupt) f[f.length - 1] ^= 0x40;
  return f;
}

export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Whether a UDP/IPv4 frame's checksum is right. */
export function udpChecksumOk(f: Uint8Array): boolean {
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const udp = 34;
  const len = v.getUint16(udp + 4);
  let sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + len;
  for (let i = udp; i < udp + len; i += 2) sum += (f[i] << 8) | (i + 1 < udp + len ? f[i + 1] : 0);
  return fold(sum) === 0xffff;
}
