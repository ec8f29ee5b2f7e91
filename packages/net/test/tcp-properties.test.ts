import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bufFrom, type NetBuf } from '@uk/netdev';
import { Reassembly } from '../src/tcp/reassembly.js';
import { SendQueue } from '../src/tcp/send-queue.js';
import { seqGt, seqLt } from '../src/tcp/seq.js';
import { TcpState } from '../src/tcp/state.js';
import { activeOpen, B, F, Harness, plainHarness } from './tcp/harness.js';
import { Pair } from './tcp/pair.js';

/** Property-based tests against simple models: byte streams, sets of received bytes, sequence arithmetic. */

const RUNS = Number(process.env.UK_PROPERTY_RUNS ?? 100);

describe('sequence arithmetic', () => {
  it('orders numbers within 2^31 of each other, across the wrap', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (a, d) => {
        const b = (a + d) >>> 0;
        expect(seqLt(a, b)).toBe(true);
        expect(seqGt(b, a)).toBe(true);
        expect(seqLt(b, a)).toBe(false);
      }),
      { numRuns: RUNS * 10 },
    );
  });
});

describe('reassembly against a model (the set of bytes received)', () => {
  it('delivers exactly the contiguous prefix, and SACK blocks are the runs above it', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.tuple(fc.nat({ max: 3000 }), fc.integer({ min: 1, max: 400 })), { minLength: 1, maxLength: 40 }),
        (base, pieces) => {
          const r = new Reassembly();
          const have = new Uint8Array(4000);
          let rcvNxt = 0;
          const delivered: number[] = [];
          for (const [off, len] of pieces) {
            const bytes = new Uint8Array(len).map((_, i) => (off + i) & 255);
            if (off + len <= rcvNxt) continue;
            r.insert((base + off) >>> 0, len, bufFrom(bytes), false, 1000);
            for (let i = off; i < off + len; i++) have[i] = 1;
            for (;;) {
              const p = r.take((base + rcvNxt) >>> 0);
              if (p === null) break;
              const b = p.buf as NetBuf;
              for (let i = 0; i < p.len; i++) {
                expect(b.store[b.offset + i]).toBe((rcvNxt + i) & 255);
                delivered.push(rcvNxt + i);
              }
              rcvNxt += p.len;
              b.release();
            }
            let expectNxt = 0;
            while (have[expectNxt] === 1) expectNxt++;
            expect(rcvNxt).toBe(expectNxt);
            // SACK blocks: exactly the runs of received bytes above rcvNxt, each once.
            const out = new Float64Array(8);
            const n = r.sackBlocks(out, 0, 4);
            const runs: [number, number][] = [];
            for (let i = rcvNxt; i < have.length; i++) {
              if (have[i] === 1 && (i === rcvNxt || have[i - 1] !== 1)) runs.push([i, i]);
              if (have[i] === 1) runs[runs.length - 1][1] = i + 1;
            }
            expect(n).toBe(Math.min(4, runs.length));
            for (let k = 0; k < n; k++) {
              const l = (out[2 * k] - base + 2 ** 32) % 2 ** 32;
              const rr = (out[2 * k + 1] - base + 2 ** 32) % 2 ** 32;
              expect(runs).toContainEqual([l, rr]);
            }
            expect(r.bytes).toBe(runs.reduce((s, [l, rr]) => s + rr - l, 0));
          }
          r.clear();
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('random arrival orders (with duplicates and overlaps) reassemble to the sent byte stream', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.integer({ min: 1, max: 1460 }), { minLength: 1, maxLength: 60 }),
        fc.integer(),
        fc.boolean(),
        (size, irs, cuts, seed, sack) => {
          const h = new Harness({ config: { socket: { timestamps: false, sack, receiveBufferSize: 64 * 1024 } } });
          const stream = new Uint8Array(size).map((_, i) => (i * 31 + (i >> 8)) & 255);
          const got = new Uint8Array(size);
          let n = 0;
          const { c, port } = activeOpen(h, { irs, sackOk: sack }, {
            recv: (cc, b) => {
              got.set(b.store.subarray(b.offset, b.offset + b.length), n);
              n += b.length;
              cc.recved(b.length);
              b.release();
            },
          });
          // Cut the stream into segments; some overlap the previous one.
          const segs: [number, number][] = [];
          let off = 0;
          let k = 0;
          // At most ~200 segments: the property is about orders, not about volume.
          const minCut = Math.ceil(size / 200);
          while (off < size) {
            const len = Math.min(Math.max(minCut, cuts[k % cuts.length]), size - off);
            const back = k % 3 === 2 ? Math.min(off, len >> 1) : 0;
            segs.push([off - back, len + back]);
            off += len;
            k++;
          }
          // Shuffle with duplicates, deterministic from the seed.
          let x = seed >>> 0 || 1;
          const rnd = (n: number): number => {
            x ^= x << 13;
            x >>>= 0;
            x ^= x >>> 17;
            x ^= x << 5;
            x >>>= 0;
            return x % n;
          };
          const order = [...segs, ...segs.filter(() => rnd(4) === 0)];
          for (let i = order.length - 1; i > 0; i--) {
            const j = rnd(i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          for (const [o, len] of order) h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + o, ack: c.sndNxt, flags: F.ACK, data: stream.subarray(o, o + len) });
          // What the bounded out-of-order queue could not hold comes again, as a sender's timeout would send it.
          for (const [o, len] of segs) h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + o, ack: c.sndNxt, flags: F.ACK, data: stream.subarray(o, o + len) });
          h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + size, ack: c.sndNxt, flags: F.ACK | F.FIN });
          expect(n).toBe(size);
          expect(got).toEqual(stream);
          expect(c.state).toBe(TcpState.CloseWait);
          expect(h.ip.pool.outstanding).toBe(0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('send queue against a model (the bytes written minus the bytes acknowledged)', () => {
  it('appends, splits and acknowledges without losing or reordering a byte', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), n: fc.integer({ min: 1, max: 2500 }) }),
            fc.record({ op: fc.constant('send' as const), n: fc.integer({ min: 1, max: 3000 }) }),
            fc.record({ op: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 6000 }) }),
          ),
          { maxLength: 60 },
        ),
        fc.nat({ max: 0xffffffff }),
        (ops, start) => {
          let live = 0;
          const q = new SendQueue((len) => {
            live++;
            const b = bufFrom(new Uint8Array(len));
            const rel = b.release;
            b.release = () => {
              live--;
              rel.call(b);
            };
            return b;
          });
          q.endSeq = start;
          let written = 0;
          let acked = 0;
          let sent = 0;
          const byte = (i: number) => (i * 7 + (i >> 9)) & 255;
          for (const o of ops) {
            if (o.op === 'write') {
              const data = new Uint8Array(o.n).map((_, i) => byte(written + i));
              written += q.append(data, 0, o.n, 1000, 1 << 20);
            } else if (o.op === 'send') {
              // Send up to n bytes of whole segments, splitting the last to fit.
              let room = o.n;
              while (q.unsent !== null && room > 0) {
                const s = q.unsent;
                if (s.len > room) q.split(s, room);
                room -= s.len;
                sent += s.len;
                s.xmits++;
                q.unsent = s.next;
              }
            } else {
              const upTo = Math.min(acked + o.n, sent);
              q.ackTo((start + upTo) >>> 0);
              acked = upTo;
            }
            // The model: bytes [acked, written) are queued, in order, at their sequence numbers.
            expect(q.bytes).toBe(written - acked);
            let at = acked;
            for (let s = q.head; s !== null; s = s.next) {
              expect(s.seq).toBe((start + at) >>> 0);
              if (s.len > 0) {
                expect(s.store[s.dataOff]).toBe(byte(at));
                expect(s.store[s.dataOff + s.len - 1]).toBe(byte(at + s.len - 1));
              }
              at += s.len;
            }
            expect(at).toBe(written);
          }
          let at = acked;
          for (let s = q.head; s !== null; s = s.next) {
            for (let i = 0; i < s.len; i++) if (s.store[s.dataOff + i] !== byte(at + i)) expect.fail(`byte ${at + i} differs`);
            at += s.len;
          }
          q.clear();
          expect(live).toBe(0);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('transfers over random impaired links', () => {
  it('every byte arrives once, in order, and both ends close cleanly', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          loss: fc.double({ min: 0, max: 0.15, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.05, noNaN: true }),
          reorder: fc.double({ min: 0, max: 0.2, noNaN: true }),
          size: fc.integer({ min: 0, max: 100_000 }),
          writes: fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
          sack: fc.boolean(),
          timestamps: fc.boolean(),
          noDelay: fc.boolean(),
          mtu: fc.constantFrom(576, 1500, 9000),
        }),
        (p) => {
          const socket = { sack: p.sack, timestamps: p.timestamps, noDelay: p.noDelay, receiveBufferSize: 32 * 1024 };
          const pair = new Pair({ link: { seed: p.seed, loss: p.loss, duplicate: p.duplicate, reorder: p.reorder, latencyMs: 2 }, mtu: p.mtu, configA: { socket }, configB: { socket } });
          const data = new Uint8Array(p.size).map((_, i) => (i * 13 + (i >> 10)) & 255);
          const got = new Uint8Array(p.size);
          let n = 0;
          let ended = false;
          let serverClosed = false;
          pair.b.listen({ port: 80 }, {
            accept: (c) => {
              c.setHandlers({
                recv: (cc, b) => {
                  if (n + b.length > p.size) throw new Error('more bytes than were sent');
                  got.set(b.store.subarray(b.offset, b.offset + b.length), n);
                  n += b.length;
                  cc.recved(b.length);
                  b.release();
                },
                end: (cc) => {
                  ended = true;
                  cc.close();
                },
                closed: () => void (serverClosed = true),
              });
            },
          });
          let off = 0;
          let k = 0;
          let clientClosed = false;
          const c = pair.a.connect({ address: B, port: 80 }, { closed: () => void (clientClosed = true) });
          const pump = (): void => {
            while (off < p.size) {
              const len = Math.min(p.writes[k % p.writes.length], p.size - off);
              const w = c.write(data.subarray(off, off + len));
              off += w;
              if (w < len) return;
              k++;
            }
            if (!c.shutWr) c.close();
          };
          c.setHandlers({ connected: pump, sent: pump, closed: () => void (clientClosed = true) });
          const ok = pair.run(() => ended && serverClosed && clientClosed, 3_600_000);
          expect(ok).toBe(true);
          expect(n).toBe(p.size);
          expect(got).toEqual(data);
          // Nothing is leaked: every buffer came back to its pool.
          pair.run(() => pair.inFlight === 0, 10_000);
          expect(pair.ipA.pool.outstanding).toBe(0);
          expect(pair.ipB.pool.outstanding).toBe(0);
        },
      ),
      { numRuns: Math.max(10, RUNS / 5) },
    );
  });
});

describe('the receiver across the sequence wrap', () => {
  it('accepts data whose sequence numbers wrap past 2^32', () => {
    const h = plainHarness();
    const got: number[] = [];
    const { c, port } = activeOpen(h, { irs: 0xffffff00 }, { recv: (cc, b) => { got.push(b.length); cc.recved(b.length); b.release(); } });
    for (let i = 0; i < 4; i++) h.inject({ srcPort: 80, dstPort: port, seq: (0xffffff01 + i * 100) >>> 0, ack: c.sndNxt, flags: F.ACK, data: 100 });
    expect(got).toEqual([100, 100, 100, 100]);
    expect(c.rcvNxt).toBe((0xffffff01 + 400) >>> 0);
  });
});
