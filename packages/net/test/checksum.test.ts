import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finishChecksum, formatIpv4, internetChecksum, parseIpv4, sumBytes } from '../src/index.js';

describe('the Internet checksum', () => {
  it('matches RFC 1071 section 3 example', () => {
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    // The RFC's sum is 0xddf2; the checksum is its complement.
    expect(internetChecksum(b, 0, b.length)).toBe(~0xddf2 & 0xffff);
  });

  it('verifies to zero once written, and sums in pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(), (data, cut) => {
        // The checksum field sits on a 16-bit boundary, as in every header.
        const b = Uint8Array.from([...data, ...(data.length % 2 ? [0] : []), 0, 0]);
        const c = internetChecksum(b, 0, b.length);
        b[b.length - 2] = c >> 8;
        b[b.length - 1] = c & 255;
        expect(internetChecksum(b, 0, b.length)).toBe(0);
        const even = (cut % (b.length + 1)) & ~1;
        expect(finishChecksum(sumBytes(b, even, b.length, sumBytes(b, 0, even)))).toBe(0);
      }),
    );
  });
});

describe('IPv4 addresses', () => {
  it('parse and format round trip', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (a) => {
        expect(parseIpv4(formatIpv4(a))).toBe(a);
      }));
    expect(parseIpv4('10.0.2.15')).toBe(0x0a00020f);
    for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5', '']) expect(parseIpv4(bad)).toBeUndefined();
  });
});
