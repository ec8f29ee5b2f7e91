import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameChecksum, finishPartialChecksum, finishSum, foldSum, formatMac, isMulticastMac, onesSum, parseMac, verifyFrameChecksum } from '../src/index.js';

/** A TCP or UDP datagram over IPv4 (or IPv6) in an Ethernet frame, checksum right, or partial (pseudo-header sum only). */
function frame(proto: 6 | 17, payload: Uint8Array, opts: { v6?: boolean; partial?: boolean; vlan?: boolean; fragment?: boolean } = {}): { f: Uint8Array; l4: number } {
  const l4len = (proto === 6 ? 20 : 8) + payload.length;
  const iph = opts.v6 ? 40 : 20;
  const eth = opts.vlan ? 18 : 14;
  const f = new Uint8Array(eth + iph + l4len);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  if (opts.vlan) {
    v.setUint16(12, 0x8100);
    v.setUint16(14, 5);
  }
  v.setUint16(eth - 2, opts.v6 ? 0x86dd : 0x0800);
  const ip = eth;
  let pseudo: number;
  if (opts.v6) {
    f[ip] = 0x60;
    v.setUint16(ip + 4, l4len);
    f[ip + 6] = proto;
    f[ip + 7] = 64;
    for (let i = 0; i < 32; i++) f[ip + 8 + i] = (i * 11 + 3) & 0xff;
    pseudo = onesSum(f, ip + 8, ip + 40) + proto + l4len;
  } else {
    f[ip] = 0x45;
    v.setUint16(ip + 2, 20 + l4len);
    if (opts.fragment) v.setUint16(ip + 6, 0x2000);
    f[ip + 8] = 64;
    f[ip + 9] = proto;
    f.set([192, 168, 1, 10, 10, 0, 0, 77], ip + 12);
    v.setUint16(ip + 10, finishSum(onesSum(f, ip, ip + 20)));
    pseudo = onesSum(f, ip + 12, ip + 20) + proto + l4len;
  }
  const l4 = ip + iph;
  v.setUint16(l4, 4321);
  v.setUint16(l4 + 2, 80);
  if (proto === 6) f[l4 + 12] = 0x50;
  else v.setUint16(l4 + 4, l4len);
  f.set(payload, l4 + (proto === 6 ? 20 : 8));
  const field = l4 + (proto === 6 ? 16 : 6);
  if (opts.partial) v.setUint16(field, foldSum(pseudo));
  else v.setUint16(field, finishSum(onesSum(f, l4, f.length, pseudo)) || 0xffff);
  return { f, l4 };
}

describe('checksums of frames', () => {
  it('verifies TCP and UDP over IPv4 and IPv6, with or without a VLAN tag, and finds a flipped bit (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.nat(), (payload, tcp, v6, vlan, flip) => {
        const { f, l4 } = frame(tcp ? 6 : 17, payload, { v6, vlan });
        expect(verifyFrameChecksum(f, 0, f.length)).toBe(FrameChecksum.Good);
        const at = l4 + (flip % (f.length - l4));
        const bad = f.slice();
        bad[at] ^= 1 << (flip % 8);
        // A UDP/IPv4 checksum flipped to 0 means "none": nothing left to check.
        const none = !tcp && !v6 && bad[l4 + 6] === 0 && bad[l4 + 7] === 0;
        expect(verifyFrameChecksum(bad, 0, bad.length)).toBe(none ? FrameChecksum.Good : FrameChecksum.Bad);
      }),
    );
  });

  it('finishes a partial checksum into one that verifies (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.boolean(), (payload, tcp, v6) => {
        const { f, l4 } = frame(tcp ? 6 : 17, payload, { v6, partial: true });
        const whole = frame(tcp ? 6 : 17, payload, { v6 }).f;
        // In the middle of a larger buffer, as a NetBuf would hold it.
        const buf = new Uint8Array(f.length + 20);
        buf.set(f, 10);
        expect(finishPartialChecksum(buf, 10, 10 + f.length, l4, tcp ? 16 : 6)).toBe(true);
        expect(Buffer.compare(buf.subarray(10, 10 + f.length), whole)).toBe(0);
        expect(verifyFrameChecksum(buf, 10, 10 + f.length)).toBe(FrameChecksum.Good);
      }),
    );
  });

  it('leaves alone what it cannot check, accepts UDP without a checksum, and refuses a field outside the frame', () => {
    const { f } = frame(17, Uint8Array.of(1, 2, 3), { fragment: true });
    expect(verifyFrameChecksum(f, 0, f.length)).toBe(FrameChecksum.NotApplicable);
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(verifyFrameChecksum(arp, 0, 42)).toBe(FrameChecksum.NotApplicable);
    const u = frame(17, Uint8Array.of(1, 2, 3)).f;
    u[40] = 0;
    u[41] = 0;
    expect(verifyFrameChecksum(u, 0, u.length)).toBe(FrameChecksum.Good);
    const short = frame(6, new Uint8Array(4)).f;
    expect(verifyFrameChecksum(short, 0, short.length - 10)).toBe(FrameChecksum.Bad);
    expect(finishPartialChecksum(u, 0, u.length, u.length - 1, 0)).toBe(false);
  });

  it('sums as RFC 1071 says', () => {
    // RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(foldSum(onesSum(b, 0, 8))).toBe(0xddf2);
    expect(finishSum(onesSum(b, 0, 8))).toBe(0x220d);
    expect(onesSum(Uint8Array.of(1, 2, 3), 0, 3)).toBe(0x0102 + 0x0300);
  });
});

describe('MAC addresses', () => {
  it('format, parse and tell group addresses', () => {
    expect(formatMac(Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56))).toBe('52:54:00:12:34:56');
    expect([...(parseMac('52-54-00-AB-cd-1') as Uint8Array)]).toEqual([0x52, 0x54, 0, 0xab, 0xcd, 1]);
    expect(parseMac('52:54:00:12:34')).toBeNull();
    expect(parseMac('52:54:00:12:34:zz')).toBeNull();
    expect(isMulticastMac(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(true);
    expect(isMulticastMac(Uint8Array.of(0x01, 0, 0x5e, 0, 0, 1))).toBe(true);
    expect(isMulticastMac(Uint8Array.of(0x52, 0, 0, 0, 0, 1))).toBe(false);
  });
});
