import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bufFrom, type NetBuf } from '@uk/netdev';
import {
  checkTcp,
  emitMssOption,
  emitSackOption,
  emitSackPermittedOption,
  emitTcpHeader,
  emitTimestampsOption,
  emitWindowScaleOption,
  finishTcpChecksum,
  parseTcpOptions,
  tcpChecksumOf,
  TcpOptions,
} from '../src/wire/tcp.js';
import { halfSipHash } from '../src/tcp/isn.js';

describe('TCP wire format', () => {
  it('options round trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          mss: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
          ws: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
          sackOk: fc.boolean(),
          ts: fc.option(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { nil: undefined }),
          sack: fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { maxLength: 2 }),
        }),
        (o) => {
          const b = new Uint8Array(60);
          let p = 20;
          if (o.mss !== undefined) p = emitMssOption(b, p, o.mss);
          if (o.ws !== undefined) p = emitWindowScaleOption(b, p, o.ws);
          if (o.sackOk) p = emitSackPermittedOption(b, p);
          if (o.ts !== undefined) p = emitTimestampsOption(b, p, o.ts[0], o.ts[1]);
          const blocks = o.sack.slice(0, Math.max(0, Math.floor((60 - p - 4) / 8)));
          if (blocks.length > 0) p = emitSackOption(b, p, blocks.flat(), blocks.length);
          o.sack = blocks;
          emitTcpHeader(b, 0, 1, 2, 3, 4, p, 0x10, 100);
          const parsed = new TcpOptions();
          expect(parseTcpOptions(b, 0, p, parsed)).toBe(true);
          expect(parsed.mss).toBe(o.mss ?? -1);
          expect(parsed.windowScale).toBe(o.ws ?? -1);
          expect(parsed.sackPermitted).toBe(o.sackOk);
          expect(parsed.hasTimestamps).toBe(o.ts !== undefined);
          if (o.ts !== undefined) expect([parsed.tsVal, parsed.tsEcr]).toEqual(o.ts);
          expect(parsed.sackCount).toBe(o.sack.length);
          for (let i = 0; i < o.sack.length; i++) expect([parsed.sack[2 * i], parsed.sack[2 * i + 1]]).toEqual(o.sack[i]);
        },
      ),
    );
  });

  it('rejects malformed option lists and clamps a window scale above 14', () => {
    const o = new TcpOptions();
    const seg = (opts: number[]) => {
      const b = new Uint8Array(20 + opts.length);
      b.set(opts, 20);
      return b;
    };
    expect(parseTcpOptions(seg([2, 4, 5]), 0, 23, o)).toBe(false);
    expect(parseTcpOptions(seg([2, 1, 0, 0]), 0, 24, o)).toBe(false);
    expect(parseTcpOptions(seg([2, 3, 5, 0]), 0, 24, o)).toBe(false);
    expect(parseTcpOptions(seg([5, 6, 0, 0, 0, 0]), 0, 26, o)).toBe(false);
    expect(parseTcpOptions(seg([99, 4, 0, 0]), 0, 24, o)).toBe(true);
    expect(parseTcpOptions(seg([1, 3, 3, 30]), 0, 24, o)).toBe(true);
    expect(o.windowScale).toBe(14);
    expect(parseTcpOptions(seg([0, 2, 0, 0]), 0, 24, o)).toBe(true);
  });

  it('checks header length and checksum; sums chains that split at odd offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(), (data, cut) => {
        const b = new Uint8Array(20 + data.length);
        emitTcpHeader(b, 0, 80, 5000, 1, 2, 20, 0x18, 1000);
        b.set(data, 20);
        finishTcpChecksum(b, 0, b.length, 0x0a000001, 0x0a000002, false);
        expect(checkTcp(b, 0, b.length, 0x0a000001, 0x0a000002)).toBe('ok');
        const at = cut % (b.length + 1);
        const first: NetBuf = bufFrom(b.subarray(0, at));
        first.next = bufFrom(b.subarray(at));
        expect(tcpChecksumOf(first, 0x0a000001, 0x0a000002, b.length)).toBe(0);
        b[b.length - 1] ^= 1;
        expect(checkTcp(b, 0, b.length, 0x0a000001, 0x0a000002)).toBe('checksum');
        expect(checkTcp(b, 0, b.length, 0x0a000001, 0x0a000002, true)).toBe('ok');
      }),
    );
    const b = new Uint8Array(24);
    b[12] = 4 << 4;
    expect(checkTcp(b, 0, 24, 1, 2)).toBe('header-length');
    b[12] = 7 << 4;
    expect(checkTcp(b, 0, 24, 1, 2)).toBe('header-length');
    expect(checkTcp(b, 0, 19, 1, 2)).toBe('truncated');
  });

  it('with offload the checksum field holds the folded pseudo-header sum', () => {
    const b = new Uint8Array(20);
    emitTcpHeader(b, 0, 80, 5000, 1, 2, 20, 0x10, 1000);
    finishTcpChecksum(b, 0, 20, 0x0a000001, 0x0a000002, true);
    expect((b[16] << 8) | b[17]).toBe(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
  });
});

describe('HalfSipHash', () => {
  it('depends on every input word and both key halves', () => {
    const base = halfSipHash(1, 2, [3, 4, 5], 3);
    expect(halfSipHash(1, 2, [3, 4, 5], 3)).toBe(base);
    expect(halfSipHash(9, 2, [3, 4, 5], 3)).not.toBe(base);
    expect(halfSipHash(1, 9, [3, 4, 5], 3)).not.toBe(base);
    expect(halfSipHash(1, 2, [3, 4, 6], 3)).not.toBe(base);
    expect(halfSipHash(1, 2, [3, 4, 5], 2)).not.toBe(base);
  });
});
