/**
 * The retransmission timeout of RFC 6298, fed with samples from timestamps (RFC 7323 §4,
 * per ACK, with the gains divided by the samples expected per RTT as its appendix G suggests)
 * or from one timed segment per RTT (Karn's algorithm).
 */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** The current RTO in ms, backoff included. */
  rto: number;
  hasSample = false;

  constructor(
    initialRto: number,
    private readonly minRto: number,
    private readonly maxRto: number,
    /** Clock granularity G in ms. */
    private readonly granularity = 1,
  ) {
    this.rto = initialRto;
  }

  /** One RTT measurement `r` ms; `perRtt` samples are expected per round trip. */
  sample(r: number, perRtt = 1): void {
    if (r < 0) return;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      const n = perRtt > 1 ? perRtt : 1;
      const alpha = 1 / 8 / n;
      const beta = 1 / 4 / n;
      this.rttvar = (1 - beta) * this.rttvar + beta * Math.abs(this.srtt - r);
      this.srtt = (1 - alpha) * this.srtt + alpha * r;
    }
    this.rto = this.clamp(this.srtt + Math.max(this.granularity, 4 * this.rttvar));
  }

  /** Doubles the RTO after an expiry (RFC 6298 5.5). */
  backoff(): void {
    this.rto = this.clamp(this.rto * 2);
  }

  /** RFC 6298 5.7: after a SYN was retransmitted and no sample exists, data starts at 3 s. */
  resetAfterSynRetransmit(): void {
    if (!this.hasSample) this.rto = this.clamp(3000);
  }

  private clamp(v: number): number {
    return v < this.minRto ? this.minRto : v > this.maxRto ? this.maxRto : v;
  }
}
