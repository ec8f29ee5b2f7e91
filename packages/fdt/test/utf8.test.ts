import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, encodeUtf8 } from '../src/text/utf8.js';

const decode = (bytes: number[]) => decodeUtf8(new Uint8Array(bytes), 0, bytes.length);

describe('UTF-8 without TextEncoder/TextDecoder', () => {
  it('agrees with TextEncoder and TextDecoder on well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const ours = encodeUtf8(s);
        expect([...ours]).toEqual([...new TextEncoder().encode(s)]);
        expect(decodeUtf8(ours, 0, ours.length)).toBe(new TextDecoder().decode(ours));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes malformed sequences to U+FFFD without throwing', () => {
    expect(decode([0x61, 0xff, 0x62])).toBe('a\ufffdb');
    expect(decode([0xc3])).toBe('\ufffd');
    expect(decode([0xe2, 0x82])).toBe('\ufffd\ufffd');
    expect(decode([0xc0, 0x80])).toBe('\ufffd\ufffd');
    expect(decode([0xed, 0xa0, 0x80])).toBe('\ufffd\ufffd\ufffd');
    expect(decode([0xf0, 0x9f, 0x98, 0x80])).toBe('\u{1f600}');
    expect(decode([0xf4, 0x90, 0x80, 0x80])).toBe('\ufffd\ufffd\ufffd\ufffd');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(typeof decodeUtf8(b, 0, b.length)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes long ASCII runs (past the one-call fast path)', () => {
    const s = 'x'.repeat(10_000);
    expect(decodeUtf8(encodeUtf8(s), 0, s.length)).toBe(s);
  });

  it('encodes lone surrogates as U+FFFD', () => {
    expect([...encodeUtf8('\ud800')]).toEqual([0xef, 0xbf, 0xbd]);
    expect([...encodeUtf8('a\udc00b')]).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
  });
});
