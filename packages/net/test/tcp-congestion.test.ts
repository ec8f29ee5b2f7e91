import { describe, expect, it } from 'vitest';
import type { CongestionView } from '../src/tcp/congestion/control.js';
import { cubic } from '../src/tcp/congestion/cubic.js';
import { newReno } from '../src/tcp/congestion/new-reno.js';
import { RttEstimator } from '../src/tcp/rtt.js';

/** The congestion control algorithms and the RTO estimator on their own. */

function view(cwnd: number, flight: number, srtt = 100): CongestionView & { flightSize: number } {
  return { cwnd, ssthresh: Number.POSITIVE_INFINITY, smss: 1000, flightSize: flight, srtt };
}

describe('NewReno', () => {
  it('slow start grows by what is acknowledged, congestion avoidance by one SMSS per window', () => {
    const cc = newReno().create();
    const v = view(10_000, 10_000);
    cc.onAck(v, 2000, 0);
    expect(v.cwnd).toBe(12_000);
    v.ssthresh = 12_000;
    // 12 000 bytes acknowledged in 1000-byte ACKs: one SMSS more.
    for (let i = 0; i < 12; i++) cc.onAck(v, 1000, 0);
    expect(v.cwnd).toBe(13_000);
  });

  it('halves on loss (ssthresh = max(FlightSize/2, 2·SMSS)), one segment after a timeout', () => {
    const cc = newReno().create();
    const v = view(20_000, 16_000);
    cc.onLoss(v, 0);
    expect(v.ssthresh).toBe(8000);
    expect(v.cwnd).toBe(8000);
    const w = view(20_000, 1000);
    cc.onTimeout(w, 0);
    expect(w.ssthresh).toBe(2000);
    expect(w.cwnd).toBe(1000);
    // After recovery: min(ssthresh, max(FlightSize, SMSS) + SMSS) (RFC 6582 option 1).
    v.flightSize = 3000;
    cc.onRecoveryEnd(v, 0);
    expect(v.cwnd).toBe(4000);
  });
});

describe('CUBIC (RFC 9438)', () => {
  it('reduces by β = 0.7 and then grows along the cubic back to W_max around t = K', () => {
    const cc = cubic().create();
    // A long RTT (100 ms), so that the cubic rather than the Reno-friendly estimate leads.
    const v = view(100_000, 100_000, 100);
    v.ssthresh = 50_000;
    cc.onLoss(v, 0);
    expect(v.cwnd).toBe(70_000);
    expect(v.ssthresh).toBe(70_000);
    // K = cbrt(W_max (1 − β) / C) = cbrt(100 · 0.3 / 0.4) s ≈ 4.22 s.
    const K = Math.cbrt((100 * 0.3) / 0.4);
    let t = 0;
    let atK = 0;
    while (t < 10_000) {
      t += 100;
      // A window's worth acknowledged per RTT.
      cc.onAck(v, v.cwnd, t);
      if (atK === 0 && t >= K * 1000) atK = v.cwnd;
    }
    expect(atK).toBeGreaterThan(95_000);
    expect(atK).toBeLessThan(106_000);
    // Beyond K the window probes above W_max (convex region).
    expect(v.cwnd).toBeGreaterThan(110_000);
  });

  it('fast convergence lowers W_max when losses come below the previous maximum', () => {
    const cc = cubic().create();
    const v = view(100_000, 100_000, 10);
    cc.onLoss(v, 0);
    // A second loss at 80 segments (< W_max 100): W_max = 80 · (1 + β) / 2 = 68.
    v.cwnd = 80_000;
    v.flightSize = 80_000;
    cc.onLoss(v, 1000);
    const d = (cc as unknown as { debug: { wMax: number } }).debug;
    expect(d.wMax).toBeCloseTo(68, 6);
  });

  it('is never slower than Reno would be (the Reno-friendly region)', () => {
    const cc = cubic().create();
    const reno = newReno().create();
    const a = view(10_000, 10_000, 1000);
    const b = view(10_000, 10_000, 1000);
    a.ssthresh = b.ssthresh = 10_000;
    for (let t = 0; t < 20_000; t += 1000) {
      cc.onAck(a, a.cwnd, t);
      reno.onAck(b, b.cwnd, t);
    }
    expect(a.cwnd).toBeGreaterThanOrEqual(b.cwnd * 0.5);
  });
});

describe('RTO estimator (RFC 6298)', () => {
  it('first sample: SRTT = R, RTTVAR = R/2; then the 1/8 and 1/4 gains; clamped to [min, max]', () => {
    const r = new RttEstimator(1000, 200, 60_000);
    expect(r.rto).toBe(1000);
    r.sample(100);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300);
    r.sample(200);
    expect(r.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 100, 9);
    expect(r.srtt).toBeCloseTo(0.875 * 100 + 0.125 * 200, 9);
    for (let i = 0; i < 100; i++) r.sample(10);
    expect(r.rto).toBe(200);
    for (let i = 0; i < 20; i++) r.backoff();
    expect(r.rto).toBe(60_000);
  });
});
