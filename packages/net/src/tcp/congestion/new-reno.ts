import { type CongestionAlgorithm, type CongestionController, type CongestionView, halfFlight, slowStart } from './control.js';

/**
 * RFC 5681 congestion avoidance with RFC 6582's window after recovery: slow start below
 * ssthresh, one SMSS per window of acknowledged bytes above it, halve on loss.
 */
class NewRenoController implements CongestionController {
  private acc = 0;

  onAck(c: CongestionView, acked: number): void {
    if (c.cwnd < c.ssthresh) {
      slowStart(c, acked);
      return;
    }
    // Byte counting: +SMSS once a whole cwnd of data has been acknowledged.
    this.acc += acked;
    if (this.acc >= c.cwnd) {
      this.acc -= c.cwnd;
      c.cwnd += c.smss;
    }
  }

  onLoss(c: CongestionView): void {
    c.ssthresh = halfFlight(c);
    c.cwnd = c.ssthresh;
    this.acc = 0;
  }

  onTimeout(c: CongestionView): void {
    c.ssthresh = halfFlight(c);
    c.cwnd = c.smss;
    this.acc = 0;
  }

  onRecoveryEnd(c: CongestionView): void {
    // RFC 6582 §3.2 step 3, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS).
    c.cwnd = Math.min(c.ssthresh, Math.max(c.flightSize, c.smss) + c.smss);
  }
}

const NEW_RENO: CongestionAlgorithm = { name: 'newreno', create: () => new NewRenoController() };

/** NewReno (RFC 5681 + RFC 6582): the default. */
export function newReno(): CongestionAlgorithm {
  return NEW_RENO;
}
