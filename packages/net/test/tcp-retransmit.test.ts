import { describe, expect, it } from 'vitest';
import type { NetBuf } from '@uk/netdev';
import { TcpState } from '../src/tcp/state.js';
import { activeOpen, B, F, Harness, plainHarness, type Seg } from './tcp/harness.js';

/** Packet-level tests of the retransmission timer (RFC 6298), fast retransmit and NewReno (RFC 5681, RFC 6582), SACK recovery (RFC 2018, RFC 6675). */

const sink = { recv: (c: { recved(n: number): void }, b: NetBuf) => { c.recved(b.length); b.release(); } };

function dataSegs(segs: Seg[]): Seg[] {
  return segs.filter((s) => s.data.length > 0);
}

describe('retransmission timeout (RFC 6298)', () => {
  it('retransmits the first unacknowledged segment after the RTO, doubling it each time, then ETIMEDOUT', () => {
    const h = plainHarness({ config: { maxRetransmits: 4 } });
    const errors: string[] = [];
    const { c } = activeOpen(h, {}, { error: (_c, e) => void errors.push(e.code) });
    c.write(new Uint8Array(100));
    const first = h.one();
    const at: number[] = [];
    for (let t = 0; t < 40_000; t += 50) {
      h.advance(50);
      for (const s of h.take()) {
        if (s.data.length > 0) {
          expect(s.seq).toBe(first.seq);
          at.push(h.now);
        } else if (s.flags & F.RST) at.push(-h.now);
      }
    }
    // RTO 1 s (the minimum), then 2, 4, 8 s; after the fourth retransmission goes unanswered, a RST.
    expect(at).toEqual([1000, 3000, 7000, 15000, -31000]);
    expect(errors).toEqual(['ETIMEDOUT']);
    expect(c.gone).toBe(true);
  });

  it('measures the RTT from timestamps and sets RTO = SRTT + 4·RTTVAR', () => {
    const h = new Harness({ config: { minRtoMs: 10 } });
    const c = h.tcp.connect({ address: B, port: 80 });
    const syn = h.one();
    h.advance(100);
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 1, ack: syn.seq + 1, flags: F.SYN | F.ACK, mss: 1460, ts: [500, syn.opts.ts?.[0] ?? 0] });
    h.take();
    // The first sample: SRTT = R, RTTVAR = R/2, RTO = R + 4·R/2 (RFC 6298 2.2).
    expect(c.rtt.srtt).toBe(100);
    expect(c.rtt.rto).toBe(300);
    for (let i = 0; i < 20; i++) {
      c.write(new Uint8Array(10));
      const s = h.one();
      h.advance(i % 2 === 0 ? 90 : 110);
      h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 2, ack: s.seq + 10, flags: F.ACK, ts: [600 + i, s.opts.ts?.[0] ?? 0] });
    }
    expect(h.take()).toHaveLength(0);
    expect(c.rtt.srtt).toBeGreaterThan(95);
    expect(c.rtt.srtt).toBeLessThan(105);
    expect(c.rtt.rto).toBeCloseTo(c.rtt.srtt + 4 * c.rtt.rttvar, 6);
    expect(c.rtt.rto).toBeLessThan(200);
  });

  it("Karn's algorithm: no sample from a retransmitted segment; RTO 3 s once data starts after a lost SYN (RFC 6298 5.7)", () => {
    const h = plainHarness();
    const c = h.tcp.connect({ address: B, port: 80 });
    const syn = h.one();
    h.advance(1000);
    expect(h.one().flags).toBe(F.SYN);
    h.advance(500);
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 1, ack: syn.seq + 1, flags: F.SYN | F.ACK, mss: 1460 });
    expect(c.state).toBe(TcpState.Established);
    expect(c.rtt.hasSample).toBe(false);
    expect(c.rtt.rto).toBe(3000);
    // The window after a lost SYN is one segment (RFC 5681 §3.1).
    expect(c.cwnd).toBe(c.smss);
  });

  it('the timer restarts on each ACK of new data and stops when all is acknowledged', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.setNoDelay(true);
    c.write(new Uint8Array(2000));
    const segs = h.take();
    expect(segs.map((s) => s.data.length)).toEqual([1460, 540]);
    h.advance(900);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: segs[0].seq + 1460, flags: F.ACK });
    // Without the restart it would fire at 1000.
    h.advance(500);
    expect(h.take()).toHaveLength(0);
    // RTO now 1012 ms (samples 0 and 900 ms): due at 1912.
    expect(c.rtxAt).toBeCloseTo(900 + c.rtt.rto, 6);
    h.advance(600);
    expect(h.one().seq).toBe(segs[1].seq);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: segs[1].seq + 540, flags: F.ACK });
    expect(c.rtxAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('after a timeout cwnd is one segment and slow start resends the rest in order (go-back-N)', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.write(new Uint8Array(5 * 1460));
    const segs = h.take();
    expect(segs).toHaveLength(5);
    h.advance(1000);
    const r = h.take();
    expect(r.map((s) => s.seq)).toEqual([segs[0].seq]);
    expect(c.cwnd).toBe(c.smss);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: segs[0].seq + 1460, flags: F.ACK });
    expect(h.take().map((s) => s.seq)).toEqual([segs[1].seq, segs[2].seq]);
  });
});

describe('fast retransmit and NewReno (RFC 5681, RFC 6582)', () => {
  it('three duplicate ACKs retransmit the hole; a partial ACK retransmits the next; a full ACK ends recovery', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.write(new Uint8Array(10 * 1460));
    const segs = h.take();
    expect(segs).toHaveLength(10);
    const ack = (n: number) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: n, flags: F.ACK });
    // Segments 2 and 5 are lost; the peer acknowledges 1, then duplicates.
    ack(segs[1].seq);
    h.take();
    ack(segs[1].seq);
    ack(segs[1].seq);
    // Limited transmit (RFC 3042): the first two duplicates may send new data — there is none.
    expect(dataSegs(h.take())).toHaveLength(0);
    ack(segs[1].seq);
    const rtx = h.one();
    expect(rtx.seq).toBe(segs[1].seq);
    expect(c.stats.fastRetransmits).toBe(1);
    expect(c.ssthresh).toBe(Math.floor((9 * 1460) / 2));
    // The partial ACK covers up to segment 5: it is retransmitted at once.
    ack(segs[4].seq);
    const rtx2 = dataSegs(h.take());
    expect(rtx2[0].seq).toBe(segs[4].seq);
    // Full ACK: recovery ends; cwnd is at most ssthresh.
    ack(segs[9].seq + 1460);
    expect(c.recovery).toBe(0);
    expect(c.cwnd).toBeLessThanOrEqual(c.ssthresh);
  });

  it('duplicate ACKs below recover do not start a second recovery (RFC 6582 §3.2 step 2)', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.write(new Uint8Array(10 * 1460));
    const segs = h.take();
    const ack = (n: number) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: n, flags: F.ACK });
    for (let i = 0; i < 4; i++) ack(segs[1].seq);
    expect(c.stats.fastRetransmits).toBe(1);
    h.advance(1000); // timeout: recover = SND.NXT
    ack(segs[3].seq);
    h.take();
    for (let i = 0; i < 4; i++) ack(segs[3].seq);
    expect(c.stats.fastRetransmits).toBe(1);
  });

  it('a retransmitted segment lost again is recovered by the RTO', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.write(new Uint8Array(6 * 1460));
    const segs = h.take();
    const ack = (n: number) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: n, flags: F.ACK });
    for (let i = 0; i < 4; i++) ack(segs[0].seq);
    expect(h.take().some((s) => s.seq === segs[0].seq)).toBe(true);
    h.advance(1000);
    expect(dataSegs(h.take())[0].seq).toBe(segs[0].seq);
    expect(c.stats.timeouts).toBe(1);
  });
});

describe('SACK (RFC 2018, RFC 6675)', () => {
  it('negotiates SACK-permitted and retransmits every hole the blocks reveal, without waiting for partial ACKs', () => {
    const h = new Harness({ config: { socket: { timestamps: false } } });
    const { c, irs, port, syn } = activeOpen(h, { sackOk: true });
    expect(syn.opts.sackOk).toBe(true);
    expect(c.sackOk).toBe(true);
    c.write(new Uint8Array(10 * 1460));
    const segs = h.take();
    expect(segs).toHaveLength(10);
    const L = (i: number) => segs[i].seq;
    const R = (i: number) => (segs[i].seq + 1460) >>> 0;
    // Lost: 1 and 4. The peer acks 0 and SACKs 2-3, then 2-3 + 5-9 piece by piece.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: R(0), flags: F.ACK });
    h.take();
    const sackAck = (blocks: [number, number][]) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: R(0), flags: F.ACK, sack: blocks });
    sackAck([[L(2), R(2)]]);
    sackAck([[L(2), R(3)]]);
    expect(c.recovery).toBe(0);
    sackAck([[L(5), R(5)], [L(2), R(3)]]);
    // Three segments SACKed above segment 1: it is lost (IsLost), retransmitted.
    let out = dataSegs(h.take());
    expect(out.map((s) => s.seq)).toContain(L(1));
    sackAck([[L(5), R(7)], [L(2), R(3)]]);
    out = dataSegs(h.take());
    // Segment 4 now has 3 SACKed segments above it: retransmitted in the same recovery.
    sackAck([[L(5), R(8)], [L(2), R(3)]]);
    out = out.concat(dataSegs(h.take()));
    expect(out.map((s) => s.seq)).toContain(L(4));
    expect(c.stats.fastRetransmits).toBe(1);
    // No SACKed segment was sent again.
    for (const i of [2, 3, 5, 6, 7]) expect(out.map((s) => s.seq)).not.toContain(L(i));
  });

  it('the receiver reports out-of-order data in SACK blocks, the latest first, and D-SACKs a duplicate', () => {
    const h = new Harness({ config: { socket: { timestamps: false } } });
    const { irs, port, c } = activeOpen(h, { sackOk: true }, sink);
    const base = irs + 1;
    const send = (off: number, len: number) => h.inject({ srcPort: 80, dstPort: port, seq: base + off, ack: c.sndNxt, flags: F.ACK, data: len });
    send(1000, 500);
    let a = h.one();
    expect(a.ack).toBe(base);
    expect(a.opts.sack).toEqual([[base + 1000, base + 1500]]);
    send(3000, 500);
    a = h.one();
    expect(a.opts.sack).toEqual([
      [base + 3000, base + 3500],
      [base + 1000, base + 1500],
    ]);
    send(1500, 500);
    a = h.one();
    expect(a.opts.sack).toEqual([
      [base + 1000, base + 2000],
      [base + 3000, base + 3500],
    ]);
    // The hole at 0 fills: everything up to 2000 is acknowledged, 3000-3500 still SACKed.
    send(0, 1000);
    a = h.one();
    expect(a.ack).toBe(base + 2000);
    expect(a.opts.sack).toEqual([[base + 3000, base + 3500]]);
    // A duplicate of data already acknowledged: a D-SACK block first (RFC 2883).
    send(0, 1000);
    a = h.one();
    expect(a.ack).toBe(base + 2000);
    expect(a.opts.sack[0]).toEqual([base, base + 1000]);
  });

  it('the scoreboard is cleared after a timeout (the receiver may renege)', () => {
    const h = new Harness({ config: { socket: { timestamps: false } } });
    const { c, irs, port } = activeOpen(h, { sackOk: true });
    c.write(new Uint8Array(4 * 1460));
    const segs = h.take();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: segs[0].seq, flags: F.ACK, sack: [[segs[1].seq, segs[3].seq + 1460]] });
    expect(c.sendQueue.sackedCount).toBe(3);
    h.advance(1000);
    expect(c.sendQueue.sackedCount).toBe(0);
  });
});

describe('timestamps (RFC 7323)', () => {
  it('echoes TS.Recent, rejects an older TSval (PAWS) with an ACK, and keeps using timestamps', () => {
    const h = new Harness({ config: { socket: { sack: false } } });
    const got: number[] = [];
    const { c, irs, port, ack } = activeOpen(h, { ts: 5000 }, { recv: (cc, b) => { got.push(b.length); cc.recved(b.length); b.release(); } });
    expect(c.tsOk).toBe(true);
    expect(ack.opts.ts?.[1]).toBe(5000);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.ACK, data: 100, ts: [6000, 0] });
    h.advance(100);
    const a = h.one();
    expect(a.opts.ts?.[1]).toBe(6000);
    // An old duplicate: TSval 5500 < TS.Recent 6000.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 101, ack: c.sndNxt, flags: F.ACK, data: 100, ts: [5500, 0] });
    expect(got).toEqual([100]);
    expect(h.one().flags).toBe(F.ACK);
    expect(h.tcp.stats.pawsRejected).toBe(1);
    // Without timestamps once they are in use: dropped silently.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 101, ack: c.sndNxt, flags: F.ACK, data: 100 });
    expect(got).toEqual([100]);
    expect(h.take()).toHaveLength(0);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 101, ack: c.sndNxt, flags: F.ACK, data: 100, ts: [7000, 0] });
    expect(got).toEqual([100, 100]);
  });

  it('option space is taken off the MSS: 1460 − 12 data bytes per segment', () => {
    const h = new Harness();
    const { c } = activeOpen(h, { ts: 1, sackOk: true, ws: 2 });
    expect(c.smss).toBe(1448);
    c.setNoDelay(true);
    c.write(new Uint8Array(3000));
    expect(h.take().map((s) => s.data.length)).toEqual([1448, 1448, 104]);
  });
});
