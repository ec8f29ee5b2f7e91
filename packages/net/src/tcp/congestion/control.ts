/**
 * Pluggable congestion control. The connection owns loss detection and recovery (fast
 * retransmit, NewReno partial ACKs, SACK-based retransmission, the RTO); the algorithm only
 * decides how cwnd and ssthresh move. Windows are in bytes, time in ms of the stack's clock.
 */

/** What an algorithm sees of a connection, and the two windows it changes. */
export interface CongestionView {
  cwnd: number;
  ssthresh: number;
  /** The sender's maximum segment size (data bytes per full segment). */
  readonly smss: number;
  /** Bytes sent and not yet acknowledged. */
  readonly flightSize: number;
  /** Smoothed round-trip time in ms (0 before the first sample). */
  readonly srtt: number;
}

/** One connection's instance of an algorithm. */
export interface CongestionController {
  /** `acked` new bytes were cumulatively acknowledged outside fast recovery. */
  onAck(c: CongestionView, acked: number, now: number): void;
  /** Loss detected by duplicate ACKs or SACK: set ssthresh, and cwnd for the recovery. */
  onLoss(c: CongestionView, now: number): void;
  /** The retransmission timer expired: set ssthresh, and cwnd to the loss window. */
  onTimeout(c: CongestionView, now: number): void;
  /** Fast recovery ended with a full acknowledgment. */
  onRecoveryEnd(c: CongestionView, now: number): void;
}

/** A congestion control algorithm, as passed in options (`newReno()`, `cubic()`). */
export interface CongestionAlgorithm {
  readonly name: string;
  create(): CongestionController;
}

/**
 * Slow start with byte counting (RFC 3465): cwnd grows by what was acknowledged. The limit
 * L = 2·SMSS per ACK is not applied: the stretch ACKs it guards against are what ACK
 * coalescing makes on purpose, and capping them would stall slow start.
 */
export function slowStart(c: CongestionView, acked: number): void {
  c.cwnd += acked;
}

/** ssthresh after a loss: max(FlightSize / 2, 2 · SMSS) (RFC 5681 equation 4). */
export function halfFlight(c: CongestionView): number {
  return Math.max(Math.floor(c.flightSize / 2), 2 * c.smss);
}
