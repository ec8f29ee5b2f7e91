import { KernelError } from '@uk/hal';
import { type TcpConnection, Recovery } from './connection.js';
import { armPersist, sendAck, sendControl, sendProbe, sendRst, sendSyn, trySend } from './output.js';
import { TcpState } from './state.js';
import { TcpFlag } from '../wire/tcp.js';

/** The earliest of a connection's timers. */
export function connectionDeadline(c: TcpConnection): number {
  let d = c.rtxAt;
  if (c.persistAt < d) d = c.persistAt;
  if (c.delackAt < d) d = c.delackAt;
  if (c.keepAt < d) d = c.keepAt;
  if (c.waitAt < d) d = c.waitAt;
  return d;
}

/** Runs whatever of the connection's timers is due at `now`. */
export function runTimers(c: TcpConnection, now: number): void {
  if (c.waitAt <= now) {
    c.waitAt = Number.POSITIVE_INFINITY;
    // TIME-WAIT over, or FIN-WAIT-2 waited long enough for a peer that never closes.
    if (c.state === TcpState.TimeWait || c.state === TcpState.FinWait2) {
      c.tcp.destroy(c, null);
      return;
    }
  }
  if (c.rtxAt <= now) {
    c.rtxAt = Number.POSITIVE_INFINITY;
    retransmitTimeout(c, now);
    if (c.gone) return;
  }
  if (c.persistAt <= now) {
    c.persistAt = Number.POSITIVE_INFINITY;
    persistTimeout(c, now);
    if (c.gone) return;
  }
  if (c.delackAt <= now) {
    c.delackAt = Number.POSITIVE_INFINITY;
    if (c.state >= TcpState.Established && c.state !== TcpState.TimeWait) sendAck(c);
  }
  if (c.keepAt <= now) {
    c.keepAt = Number.POSITIVE_INFINITY;
    keepAliveTimeout(c, now);
  }
}

function fail(c: TcpConnection, what: string): void {
  const err = c.softError ?? new KernelError('ETIMEDOUT', what);
  if (c.state >= TcpState.SynReceived && c.state !== TcpState.TimeWait) sendRst(c);
  c.tcp.destroy(c, err);
}

/** RFC 6298 §5.4–5.7: retransmit the earliest unacknowledged segment, back off, go to loss recovery. */
function retransmitTimeout(c: TcpConnection, now: number): void {
  const tcp = c.tcp;
  const cfg = tcp.config;
  switch (c.state) {
    case TcpState.SynSent:
    case TcpState.SynReceived: {
      const limit = c.state === TcpState.SynSent ? cfg.synRetries : c.passive ? cfg.synAckRetries : cfg.synRetries;
      if (c.retries >= limit) {
        if (c.passive) tcp.destroy(c, null);
        else fail(c, `no answer from ${c.remotePort === 0 ? 'the peer' : `port ${c.remotePort}`} after ${c.retries + 1} SYNs`);
        return;
      }
      c.retries++;
      c.synRetransmitted = true;
      c.rtt.backoff();
      c.stats.retransmits++;
      tcp.stats.retransmits++;
      sendSyn(c);
      c.rtxAt = tcp.armTimer(now + c.rtt.rto);
      return;
    }
    case TcpState.Established:
    case TcpState.CloseWait:
    case TcpState.FinWait1:
    case TcpState.Closing:
    case TcpState.LastAck:
      break;
    default:
      return;
  }
  if (c.sndUna === c.sndNxt) return;
  if (c.firstRetransmitAt < 0) c.firstRetransmitAt = now;
  const user = c.opts.userTimeoutMs;
  if (c.retries >= cfg.maxRetransmits || (user > 0 && now - c.firstRetransmitAt >= user)) {
    fail(c, `no acknowledgment after ${c.retries} retransmissions`);
    return;
  }
  c.stats.timeouts++;
  tcp.stats.timeouts++;
  if (c.recovery !== Recovery.Loss || c.retries === 0) c.cc.onTimeout(c, now);
  else c.cwnd = c.smss;
  c.recovery = Recovery.Loss;
  c.recover = c.sndNxt;
  c.dupAcks = 0;
  c.renoSacked = 0;
  c.rttSeq = -1;
  // Everything in flight is presumed lost; the receiver may have reneged on SACKed data (RFC 2018 §8).
  const q = c.sendQueue;
  for (let s = q.head; s !== null && s !== q.unsent; s = s.next) {
    s.sacked = false;
    s.lost = true;
    s.retrans = false;
  }
  q.sackedBytes = 0;
  q.sackedCount = 0;
  c.retries++;
  c.rtt.backoff();
  if (q.head === q.unsent && c.finSent && !c.finAcked) {
    // Only our FIN is outstanding.
    c.stats.retransmits++;
    tcp.stats.retransmits++;
    sendControl(c, TcpFlag.FIN | TcpFlag.ACK, q.endSeq);
  } else trySend(c);
  if (!c.gone && c.rtxAt === Number.POSITIVE_INFINITY) c.rtxAt = tcp.armTimer(now + c.rtt.rto);
}

/**
 * Zero-window probing (RFC 9293 §3.8.6.1): while the peer's window is closed and data waits,
 * a probe with an old sequence number makes the peer tell its window. Probes back off like
 * retransmissions; a peer that answers none of them in `maxRetransmits` is given up.
 */
function persistTimeout(c: TcpConnection, _now: number): void {
  if (c.state < TcpState.Established || c.state === TcpState.TimeWait) return;
  if (c.sndWnd > 0 || c.sendQueue.unsent === null) {
    trySend(c);
    return;
  }
  if (c.persistBackoff > c.tcp.config.maxRetransmits) {
    fail(c, 'the peer kept its window closed and stopped answering probes');
    return;
  }
  c.tcp.stats.windowProbes++;
  sendProbe(c);
  c.persistBackoff++;
  armPersist(c);
}

/** Keep-alive (RFC 9293 §3.8.4): after keepIdleMs of silence, keepCount probes keepIntervalMs apart. */
function keepAliveTimeout(c: TcpConnection, now: number): void {
  if (!c.opts.keepAlive || c.state < TcpState.Established || c.state === TcpState.TimeWait) return;
  const tcp = c.tcp;
  const idle = now - c.lastRecvAt;
  if (c.keepProbes === 0 && idle < c.opts.keepIdleMs) {
    c.keepAt = tcp.armTimer(c.lastRecvAt + c.opts.keepIdleMs);
    return;
  }
  if (c.keepProbes > 0 && idle < c.opts.keepIntervalMs) {
    // The peer answered the last probe.
    c.keepProbes = 0;
    c.keepAt = tcp.armTimer(c.lastRecvAt + c.opts.keepIdleMs);
    return;
  }
  if (c.keepProbes >= c.opts.keepCount) {
    fail(c, `the peer did not answer ${c.keepProbes} keep-alive probes`);
    return;
  }
  c.keepProbes++;
  tcp.stats.keepAliveProbes++;
  sendProbe(c);
  c.keepAt = tcp.armTimer(now + c.opts.keepIntervalMs);
}
