import { describe, expect, it } from 'vitest';
import type { TcpSocketOptions } from '../src/tcp/config.js';
import { cubic } from '../src/tcp/congestion/cubic.js';
import { B } from './tcp/harness.js';
import { type LinkSpec, Pair } from './tcp/pair.js';

/**
 * Bulk transfers between two TCP endpoints over a link with seeded loss, duplication and
 * reordering. UK_TCP_LOSSY_BYTES sets the size of the big one (default 100 MiB; 1 GiB:
 * UK_TCP_LOSSY_BYTES=1073741824).
 */

const BIG = Number(process.env.UK_TCP_LOSSY_BYTES ?? 100 * 1024 * 1024);
const IMPAIRED: LinkSpec = { seed: 2024, loss: 0.05, duplicate: 0.02, reorder: 0.05, reorderMs: 3, latencyMs: 2 };

/** The stream: byte p is PATTERN[p mod M], M prime-sized so no segment or buffer size lines up with it. */
const M = 1_000_003;
const PATTERN = (() => {
  const p = new Uint8Array(M + 65536);
  let x = 0x12345678;
  for (let i = 0; i < p.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    p[i] = x & 255;
  }
  // The tail repeats the head, so any window of up to 64 KiB is one subarray.
  p.set(p.subarray(0, 65536), M);
  return p;
})();

interface Outcome {
  received: number;
  mismatchAt: number;
  pair: Pair;
  ms: number;
}

function transfer(bytes: number, link: LinkSpec, socket: Partial<TcpSocketOptions> = {}): Outcome {
  const opts = { receiveBufferSize: 256 * 1024, sendBufferSize: 256 * 1024, ...socket };
  const pair = new Pair({ link, configA: { socket: opts }, configB: { socket: opts } });
  let received = 0;
  let mismatchAt = -1;
  let done = false;
  pair.b.listen({ port: 80 }, {
    accept: (c) => {
      c.setHandlers({
        recv: (cc, b) => {
          const s = b.store;
          let q = received % M;
          for (let i = b.offset, end = b.offset + b.length; i < end; i++) {
            if (s[i] !== PATTERN[q] && mismatchAt < 0) mismatchAt = received + (i - b.offset);
            if (++q === M) q = 0;
          }
          received += b.length;
          cc.recved(b.length);
          b.release();
        },
        end: (cc) => {
          done = true;
          cc.close();
        },
      });
    },
  });
  let sent = 0;
  const c = pair.a.connect({ address: B, port: 80 });
  const pump = (): void => {
    while (sent < bytes) {
      const n = Math.min(65536, bytes - sent);
      const q = sent % M;
      const w = c.write(PATTERN.subarray(q, q + n));
      sent += w;
      if (w < n) return;
    }
    if (!c.shutWr) c.close();
  };
  c.setHandlers({ connected: pump, sent: pump });
  const t0 = performance.now();
  pair.run(() => done && c.gone, 10 * 3600 * 1000);
  pair.run(() => pair.inFlight === 0, 60_000);
  return { received, mismatchAt, pair, ms: performance.now() - t0 };
}

describe('bulk transfer over a lossy link (5 % loss, duplication, reordering)', () => {
  it(`${BIG / 1024 / 1024} MiB arrive intact, SACK + NewReno`, () => {
    const r = transfer(BIG, IMPAIRED);
    expect(r.mismatchAt).toBe(-1);
    expect(r.received).toBe(BIG);
    const { stats } = r.pair;
    // The impairments really happened, and recovery did the work.
    expect(stats.lost / stats.sent).toBeGreaterThan(0.04);
    expect(stats.duplicated).toBeGreaterThan(0);
    expect(stats.reordered).toBeGreaterThan(0);
    expect(r.pair.a.stats.retransmits).toBeGreaterThan(stats.lost / 4);
    expect(r.pair.a.stats.fastRetransmits).toBeGreaterThan(r.pair.a.stats.timeouts);
    // Every buffer went back to its pool; both ends are gone (TIME-WAIT is on the side that closed first).
    expect(r.pair.ipA.pool.outstanding).toBe(0);
    expect(r.pair.ipB.pool.outstanding).toBe(0);
    console.log(`${BIG / 1024 / 1024} MiB over 5 % loss: ${r.ms.toFixed(0)} ms host time, ${(r.pair.now / 1000).toFixed(1)} s virtual; ${JSON.stringify(r.pair.a.stats)}`);
  });

  it('8 MiB arrive intact without SACK (NewReno partial ACKs only) and with CUBIC', () => {
    for (const socket of [{ sack: false }, { sack: false, timestamps: false }, { congestionControl: cubic() }]) {
      const r = transfer(8 * 1024 * 1024, { ...IMPAIRED, seed: 7 }, socket);
      expect(r.mismatchAt).toBe(-1);
      expect(r.received).toBe(8 * 1024 * 1024);
      expect(r.pair.ipA.pool.outstanding).toBe(0);
      expect(r.pair.ipB.pool.outstanding).toBe(0);
    }
  });

  it('a corrupting link: checksums catch every flipped byte (software checksums)', () => {
    const opts = { receiveBufferSize: 64 * 1024 };
    const pair = new Pair({ link: { seed: 9, loss: 0.02, corrupt: 0.05, latencyMs: 1 }, offload: false, configA: { socket: opts }, configB: { socket: opts } });
    const bytes = 2 * 1024 * 1024;
    let received = 0;
    let bad = 0;
    pair.b.listen({ port: 80 }, {
      accept: (c) =>
        c.setHandlers({
          recv: (cc, b) => {
            for (let i = 0; i < b.length; i++) if (b.store[b.offset + i] !== PATTERN[(received + i) % M]) bad++;
            received += b.length;
            cc.recved(b.length);
            b.release();
          },
        }),
    });
    let sent = 0;
    const c = pair.a.connect({ address: B, port: 80 });
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(65536, bytes - sent);
        const w = c.write(PATTERN.subarray(sent % M, (sent % M) + n));
        sent += w;
        if (w < n) return;
      }
    };
    c.setHandlers({ connected: pump, sent: pump });
    pair.run(() => received === bytes, 3_600_000);
    expect(received).toBe(bytes);
    expect(bad).toBe(0);
    expect(pair.stats.corrupted).toBeGreaterThan(50);
    expect(pair.a.stats.checksumErrors + pair.b.stats.checksumErrors + pair.a.stats.dropped + pair.b.stats.dropped).toBeGreaterThan(0);
  });
});
