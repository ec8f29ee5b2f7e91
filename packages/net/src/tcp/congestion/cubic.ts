import { type CongestionAlgorithm, type CongestionController, type CongestionView, slowStart } from './control.js';

/** RFC 9438 constants. */
const C = 0.4;
const BETA = 0.7;
const ALPHA_RENO = (3 * (1 - BETA)) / (1 + BETA);

/**
 * CUBIC (RFC 9438): after a loss the window follows W(t) = C·(t − K)³ + W_max (segments,
 * seconds), concave up to the previous maximum and convex beyond it, never below what Reno
 * would have reached (the Reno-friendly region). Fast convergence lowers W_max when the
 * window stops reaching it.
 */
class CubicController implements CongestionController {
  private wMax = 0;
  private k = 0;
  private epochStart = -1;
  private wEst = 0;
  private cwndEpoch = 0;

  constructor(private readonly fastConvergence: boolean) {}

  onAck(c: CongestionView, acked: number, now: number): void {
    if (c.cwnd < c.ssthresh) {
      slowStart(c, acked);
      return;
    }
    const mss = c.smss;
    const cwndSeg = c.cwnd / mss;
    if (this.epochStart < 0) {
      this.epochStart = now;
      this.cwndEpoch = cwndSeg;
      this.wEst = cwndSeg;
      if (this.wMax <= cwndSeg) {
        // No previous maximum above us (first epoch, or a loss-free climb past it).
        this.wMax = cwndSeg;
        this.k = 0;
      } else this.k = Math.cbrt((this.wMax - cwndSeg) / C);
    }
    const t = (now - this.epochStart) / 1000;
    const rtt = c.srtt / 1000;
    const wCubic = (x: number): number => C * (x - this.k) ** 3 + this.wMax;
    let target = wCubic(t + rtt);
    if (target < cwndSeg) target = cwndSeg;
    else if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
    // The Reno-friendly estimate grows like Reno with CUBIC's β (RFC 9438 §4.3).
    const alpha = this.wEst >= this.wMax ? 1 : ALPHA_RENO;
    this.wEst += (alpha * (acked / mss)) / cwndSeg;
    if (wCubic(t) < this.wEst) {
      if (this.wEst > cwndSeg) c.cwnd = Math.max(c.cwnd, Math.floor(this.wEst * mss));
      return;
    }
    // Concave / convex region: (target − cwnd) / cwnd segments per acknowledged segment.
    c.cwnd += Math.floor(((target - cwndSeg) / cwndSeg) * acked);
  }

  private reduce(c: CongestionView): void {
    const cwndSeg = c.cwnd / c.smss;
    this.wMax = this.fastConvergence && cwndSeg < this.wMax ? (cwndSeg * (1 + BETA)) / 2 : cwndSeg;
    this.epochStart = -1;
    c.ssthresh = Math.max(Math.floor(c.flightSize * BETA), 2 * c.smss);
  }

  onLoss(c: CongestionView): void {
    this.reduce(c);
    c.cwnd = c.ssthresh;
  }

  onTimeout(c: CongestionView): void {
    this.reduce(c);
    c.cwnd = c.smss;
  }

  onRecoveryEnd(c: CongestionView): void {
    c.cwnd = c.ssthresh;
  }

  /** For tests: the cubic parameters of the current epoch. */
  get debug(): { wMax: number; k: number; epochStart: number; cwndEpoch: number } {
    return { wMax: this.wMax, k: this.k, epochStart: this.epochStart, cwndEpoch: this.cwndEpoch };
  }
}

/** CUBIC (RFC 9438), opt-in: `tcp({ socket: { congestionControl: cubic() } })`. */
export function cubic(opts: { fastConvergence?: boolean } = {}): CongestionAlgorithm {
  const fc = opts.fastConvergence ?? true;
  return { name: 'cubic', create: () => new CubicController(fc) };
}
