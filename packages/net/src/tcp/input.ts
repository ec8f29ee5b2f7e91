import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import { TcpFlag, TcpOptions } from '../wire/tcp.js';
import { type TcpConnection, Recovery } from './connection.js';
import { armPersist, sendAck, sendSyn, trySend, tsNow, updateSmss } from './output.js';
import { seqDiff, seqGeq, seqGt, seqLeq, seqLt } from './seq.js';
import { TcpState } from './state.js';

/** A received segment's header fields, parsed once into a reusable object. */
export class Segment {
  src = 0;
  dst = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** The window field as received (unscaled). */
  wnd = 0;
  dataLen = 0;
  readonly opts = new TcpOptions();
}

/** Timestamps older than this do not protect against wrapped sequences (RFC 7323 §5.5: 24 days). */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/**
 * "SEGMENT ARRIVES" (RFC 9293 §3.10.7) for a connection in SYN-SENT or a synchronized state,
 * with RFC 5961's checks on RST, SYN and ACK, RFC 7323's PAWS, and RFC 2018's SACK. `buf`'s
 * window is the segment's data (header already consumed); this takes ownership of it.
 */
export function connectionInput(c: TcpConnection, s: Segment, buf: NetBuf): void {
  const tcp = c.tcp;
  const now = tcp.now();
  c.stats.segmentsIn++;
  if (c.state === TcpState.SynSent) {
    synSentInput(c, s, buf, now);
    return;
  }
  let flags = s.flags;
  const o = s.opts;
  if (c.tsOk && (flags & TcpFlag.RST) === 0) {
    // RFC 7323 §3.2: once negotiated, timestamps are on every segment but RST.
    if (!o.hasTimestamps) {
      tcp.stats.dropped++;
      buf.release();
      return;
    }
    // PAWS (RFC 7323 §5.3): an older TSval is an old duplicate.
    if (seqLt(o.tsVal, c.tsRecent) && now - c.tsRecentAt < PAWS_IDLE_MS) {
      tcp.stats.pawsRejected++;
      buf.release();
      outOfWindowAck(c, now, s.dataLen > 0);
      return;
    }
  }
  let seq = s.seq;
  if (c.state === TcpState.SynReceived && (flags & TcpFlag.SYN) !== 0 && seq === c.irs) {
    if ((flags & TcpFlag.ACK) === 0) {
      // A retransmitted SYN: our SYN-ACK was lost.
      buf.release();
      sendSyn(c);
      return;
    }
    // Simultaneous open: the peer's SYN-ACK repeats the SYN we have; its ACK is what counts.
    flags &= ~TcpFlag.SYN;
    seq = (seq + 1) >>> 0;
  }

  // First: the sequence number (RFC 9293 §3.10.7.4).
  let dataLen = s.dataLen;
  const segLen = dataLen + ((flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
  const wnd = Math.max(0, seqDiff(c.rcvAdvRight, c.rcvNxt));
  let acceptable: boolean;
  if (segLen === 0) acceptable = wnd === 0 ? seq === c.rcvNxt : inWindow(seq, c.rcvNxt, wnd);
  else acceptable = wnd > 0 && (inWindow(seq, c.rcvNxt, wnd) || inWindow((seq + segLen - 1) >>> 0, c.rcvNxt, wnd));
  if (!acceptable) {
    if (wnd === 0 && seq === c.rcvNxt && (flags & TcpFlag.SYN) === 0) {
      // A zero window still takes the ACK, window and RST of a segment at RCV.NXT; its data
      // (a window probe) is not taken, and the ACK we send tells the window again.
      if (dataLen > 0 || (flags & TcpFlag.FIN) !== 0) c.ackNow = true;
      dataLen = 0;
      flags &= ~TcpFlag.FIN;
    } else {
      buf.release();
      if ((flags & TcpFlag.RST) !== 0) return;
      if ((flags & TcpFlag.SYN) !== 0) {
        tcp.challengeAck(c);
        return;
      }
      if (dataLen > 0 && c.sackOk && seqLeq((seq + dataLen) >>> 0, c.rcvNxt)) {
        // A duplicate: report it as a D-SACK block (RFC 2883).
        c.dsackLeft = seq;
        c.dsackRight = (seq + dataLen) >>> 0;
      }
      if (c.state === TcpState.TimeWait && (flags & TcpFlag.FIN) !== 0) c.waitAt = tcp.armTimer(now + 2 * tcp.config.mslMs);
      outOfWindowAck(c, now, dataLen > 0 || (flags & TcpFlag.FIN) !== 0);
      return;
    }
  }
  // Trim to the window: what precedes RCV.NXT was received before (a SYN there is the old one).
  if (seqLt(seq, c.rcvNxt)) {
    let cut = seqDiff(c.rcvNxt, seq);
    if ((flags & TcpFlag.SYN) !== 0) {
      flags &= ~TcpFlag.SYN;
      seq = (seq + 1) >>> 0;
      cut--;
    }
    const d = Math.min(cut, dataLen);
    if (d > 0) {
      buf.offset += d;
      buf.length -= d;
      dataLen -= d;
      seq = (seq + d) >>> 0;
      if (c.sackOk) {
        c.dsackLeft = s.seq;
        c.dsackRight = seq;
      }
    }
  }
  const over = seqDiff((seq + dataLen + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0)) >>> 0, c.rcvAdvRight);
  if (over > 0 && dataLen + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0) > 0) {
    let o2 = over;
    if ((flags & TcpFlag.FIN) !== 0) {
      flags &= ~TcpFlag.FIN;
      o2--;
    }
    if (o2 > 0) {
      const d = Math.min(o2, dataLen);
      dataLen -= d;
      buf.length -= d;
    }
  }
  c.lastRecvAt = now;
  c.keepProbes = 0;

  // Second: RST (RFC 5961 §3.2: only an exact RCV.NXT resets; in-window gets a challenge ACK).
  if ((flags & TcpFlag.RST) !== 0) {
    buf.release();
    if (s.seq === c.rcvNxt) resetReceived(c);
    else tcp.challengeAck(c);
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 §4.2).
  if ((flags & TcpFlag.SYN) !== 0) {
    buf.release();
    tcp.challengeAck(c);
    return;
  }
  // Fifth: ACK.
  if ((flags & TcpFlag.ACK) === 0) {
    buf.release();
    return;
  }
  if (c.state === TcpState.SynReceived) {
    if (!(seqLt(c.sndUna, s.ack) && seqLeq(s.ack, c.sndNxt))) {
      buf.release();
      tcp.sendResetReply(s);
      return;
    }
    // The peer's window in its ACK is scaled already; take it as the first window update.
    c.sndWl1 = (s.seq - 1) >>> 0;
    establish(c, now, o.hasTimestamps ? o.tsEcr : 0);
    if (c.gone) {
      buf.release();
      return;
    }
  } else if (seqGt(s.ack, c.sndNxt) || seqLt(s.ack, (c.sndUna - c.maxSndWnd) >>> 0)) {
    // RFC 5961 §5.2: an ACK of data never sent, or far older than any window: ACK back, drop.
    buf.release();
    tcp.challengeAck(c);
    return;
  }
  // RFC 7323 §4.3: TS.Recent follows the segment that covers Last.ACK.sent.
  if (c.tsOk && o.hasTimestamps && seqGeq(o.tsVal, c.tsRecent) && seqLeq(s.seq, c.lastAckSent)) {
    c.tsRecent = o.tsVal;
    c.tsRecentAt = now;
  }
  const acked = processAck(c, s, now);
  if (c.gone) {
    buf.release();
    return;
  }

  // Seventh and eighth: data and FIN.
  if (dataLen > 0 || (flags & TcpFlag.FIN) !== 0) {
    const st = c.state;
    if (st === TcpState.Established || st === TcpState.FinWait1 || st === TcpState.FinWait2) {
      receive(c, seq, dataLen, dataLen > 0 ? buf : null, (flags & TcpFlag.FIN) !== 0, now);
      if (dataLen === 0) buf.release();
    } else {
      buf.release();
      // A FIN again (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT): acknowledge it again.
      if ((flags & TcpFlag.FIN) !== 0) {
        c.ackNow = true;
        if (st === TcpState.TimeWait) c.waitAt = tcp.armTimer(now + 2 * tcp.config.mslMs);
      }
    }
  } else buf.release();
  if (c.gone) return;
  trySend(c);
  if (acked > 0 && c.handlers.sent !== undefined && !c.gone) c.handlers.sent(c, acked);
}

function inWindow(x: number, left: number, wnd: number): boolean {
  const d = seqDiff(x, left);
  return d >= 0 && d < wnd;
}

/**
 * The ACK for a segment that was not acceptable (RFC 9293 §3.10.7.4 first). Segments without
 * data get at most one such ACK per half second, so two confused peers cannot loop.
 */
function outOfWindowAck(c: TcpConnection, now: number, hadData: boolean): void {
  if (!hadData) {
    if (now - c.lastOowAckAt < 500) return;
    c.lastOowAckAt = now;
  }
  sendAck(c);
}

function resetReceived(c: TcpConnection): void {
  const tcp = c.tcp;
  tcp.stats.resetsIn++;
  switch (c.state) {
    case TcpState.SynReceived:
      tcp.destroy(c, c.passive ? null : new KernelError('ECONNREFUSED', 'the peer refused the connection (RST)'));
      return;
    case TcpState.Established:
    case TcpState.FinWait1:
    case TcpState.FinWait2:
    case TcpState.CloseWait:
      tcp.destroy(c, new KernelError('ECONNRESET', 'the peer reset the connection'));
      return;
    default:
      tcp.destroy(c, null);
  }
}

/** Takes the peer's SYN options (RFC 7323, RFC 2018, MSS) into the connection. */
export function acceptSynOptions(c: TcpConnection, o: TcpOptions, now: number): void {
  c.peerMss = o.mss > 0 ? o.mss : 536;
  if (c.opts.windowScaling && o.windowScale >= 0) {
    c.wsOk = true;
    c.sndScale = o.windowScale;
  } else {
    c.wsOk = false;
    c.sndScale = 0;
    c.rcvScale = 0;
  }
  c.sackOk = c.opts.sack && o.sackPermitted;
  c.tsOk = c.opts.timestamps && o.hasTimestamps;
  if (c.tsOk) {
    c.tsRecent = o.tsVal;
    c.tsRecentAt = now;
  }
  updateSmss(c);
}

/** RFC 6928's initial window, or one segment when the handshake lost a SYN. */
function initialWindow(c: TcpConnection): number {
  if (c.synRetransmitted) return c.smss;
  return Math.min(10 * c.smss, Math.max(2 * c.smss, 14600));
}

/** SYN-RECEIVED → ESTABLISHED on an acceptable ACK of our SYN. */
function establish(c: TcpConnection, now: number, tsEcr: number): void {
  c.state = TcpState.Established;
  c.sndUna = (c.iss + 1) >>> 0;
  c.rtxAt = Number.POSITIVE_INFINITY;
  c.retries = 0;
  if (c.tsOk && tsEcr !== 0) c.rtt.sample(seqDiff(tsNow(c), tsEcr));
  else if (!c.synRetransmitted) c.rtt.sample(now - c.rttStart);
  if (c.synRetransmitted) c.rtt.resetAfterSynRetransmit();
  c.cwnd = initialWindow(c);
  if (c.opts.keepAlive) c.keepAt = c.tcp.armTimer(now + c.opts.keepIdleMs);
  const l = c.listener;
  if (c.passive && l !== null) {
    l.halfOpen.delete(c);
    c.listener = null;
    c.tcp.stats.accepted++;
    if (l.closed || l.handlers.accept(c) === false) {
      c.abort();
      return;
    }
  } else c.handlers.connected?.(c);
  if (c.gone) return;
  if (c.shutWr) c.queueFin();
}

function synSentInput(c: TcpConnection, s: Segment, buf: NetBuf, now: number): void {
  const tcp = c.tcp;
  const f = s.flags;
  buf.release();
  const hasAck = (f & TcpFlag.ACK) !== 0;
  if (hasAck && (seqLeq(s.ack, c.iss) || seqGt(s.ack, c.sndNxt))) {
    if ((f & TcpFlag.RST) === 0) tcp.sendResetReply(s);
    return;
  }
  if ((f & TcpFlag.RST) !== 0) {
    // RFC 5961 §3.2 / RFC 9293: a RST in SYN-SENT counts only if it acknowledges our SYN.
    if (hasAck) {
      tcp.stats.resetsIn++;
      tcp.destroy(c, new KernelError('ECONNREFUSED', `connection to port ${c.remotePort} refused (RST)`));
    }
    return;
  }
  if ((f & TcpFlag.SYN) === 0) return;
  c.irs = s.seq;
  c.rcvNxt = (s.seq + 1) >>> 0;
  c.rcvAdvRight = c.rcvNxt;
  acceptSynOptions(c, s.opts, now);
  if (hasAck) {
    c.sndUna = s.ack;
    c.rtxAt = Number.POSITIVE_INFINITY;
    c.retries = 0;
    if (c.tsOk && s.opts.tsEcr !== 0) c.rtt.sample(seqDiff(tsNow(c), s.opts.tsEcr));
    else if (!c.synRetransmitted) c.rtt.sample(now - c.rttStart);
    if (c.synRetransmitted) c.rtt.resetAfterSynRetransmit();
    // The window of a SYN is never scaled (RFC 7323 §2.2).
    c.sndWnd = s.wnd;
    c.maxSndWnd = s.wnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = s.ack;
    c.state = TcpState.Established;
    c.cwnd = initialWindow(c);
    c.ackNow = true;
    if (c.opts.keepAlive) c.keepAt = tcp.armTimer(now + c.opts.keepIdleMs);
    c.handlers.connected?.(c);
    if (c.gone) return;
    if (c.shutWr) c.queueFin();
    // Data or FIN on a SYN-ACK is rare and not taken here: the peer will send it again.
    trySend(c);
    return;
  }
  // Simultaneous open (RFC 9293 §3.5, figure 7): both sent SYN; answer with SYN-ACK.
  c.state = TcpState.SynReceived;
  c.sndWnd = s.wnd;
  c.sndWl1 = s.seq;
  c.sndWl2 = c.iss;
  sendSyn(c);
  c.rtxAt = tcp.armTimer(now + c.rtt.rto);
}

/**
 * The ACK field and the window (RFC 9293 §3.10.7.4 fifth): advances SND.UNA, samples the RTT,
 * drives loss recovery (RFC 5681 fast retransmit, RFC 6582 NewReno, RFC 6675 with SACK) and
 * the congestion controller, and moves the closing states on when our FIN is acknowledged.
 * Returns the data bytes newly acknowledged.
 */
function processAck(c: TcpConnection, s: Segment, now: number): number {
  const tcp = c.tcp;
  const q = c.sendQueue;
  const ack = s.ack;
  const o = s.opts;
  let sackNew = false;
  if (c.sackOk && o.sackCount > 0 && q.head !== null && q.head !== q.unsent) sackNew = applySack(c, o);
  const wnd = s.wnd * (1 << c.sndScale);
  let dataAcked = 0;
  // Grow cwnd only while it limits the sender (RFC 7661's spirit): half of it in flight at least.
  const usedWindow = 2 * c.flightSize >= c.cwnd;
  if (seqGt(ack, c.sndUna)) {
    dataAcked = q.ackTo(ack);
    if (c.finSent && ack === ((q.endSeq + 1) >>> 0)) c.finAcked = true;
    c.sndUna = ack;
    if (c.tsOk && o.hasTimestamps && o.tsEcr !== 0) {
      const perRtt = Math.ceil(c.flightSize / (2 * c.smss));
      c.rtt.sample(seqDiff(tsNow(c), o.tsEcr), perRtt);
    } else if (c.rttSeq >= 0 && seqGt(ack, c.rttSeq)) {
      c.rtt.sample(now - c.rttStart);
      c.rttSeq = -1;
    }
    c.retries = 0;
    c.firstRetransmitAt = -1;
    if (c.recovery === Recovery.Fast) {
      if (seqGeq(ack, c.recover)) {
        endRecovery(c);
        c.cc.onRecoveryEnd(c, now);
      } else {
        // A partial ACK (RFC 6582 §3.2 step 4): the next hole is lost too.
        if (!c.sackOk) c.renoSacked = Math.max(0, c.renoSacked - Math.max(0, dataAcked - c.smss));
        else markLostBySack(c);
        markHeadLost(c);
        c.rtxForce = true;
      }
    } else if (c.recovery === Recovery.Loss) {
      if (seqGeq(ack, c.recover)) endRecovery(c);
      else if (c.sackOk) markLostBySack(c);
      c.cc.onAck(c, dataAcked, now);
    } else if (usedWindow) c.cc.onAck(c, dataAcked, now);
    c.dupAcks = 0;
    // RFC 6298 5.2 / 5.3: stop the timer when all is acknowledged, else restart it.
    c.rtxAt = c.sndUna === c.sndNxt ? Number.POSITIVE_INFINITY : tcp.armTimer(now + c.rtt.rto);
  } else if (ack === c.sndUna && s.dataLen === 0 && (s.flags & (TcpFlag.SYN | TcpFlag.FIN)) === 0 && c.sndNxt !== c.sndUna && wnd === c.sndWnd && (!c.sackOk || sackNew)) {
    // A duplicate ACK (RFC 5681 §2; with SACK it must bring news, RFC 6675 §2).
    c.dupAcks++;
    c.stats.dupAcksIn++;
    if (c.recovery === Recovery.Fast && !c.sackOk) c.renoSacked = Math.min(c.renoSacked + c.smss, Math.max(0, c.flightSize - c.smss));
    else if (c.recovery !== Recovery.Open && c.sackOk) markLostBySack(c);
  }
  // The send window, from the newest segment (SND.WL1/WL2).
  if (seqLt(c.sndWl1, s.seq) || (c.sndWl1 === s.seq && seqLeq(c.sndWl2, ack))) {
    c.sndWnd = wnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = ack;
    if (wnd > c.maxSndWnd) c.maxSndWnd = wnd;
  }
  c.persistBackoff = 0;
  if (c.sndWnd > 0) c.persistAt = Number.POSITIVE_INFINITY;
  else if (q.unsent !== null && c.flightSize === 0 && c.persistAt === Number.POSITIVE_INFINITY) armPersist(c);
  // Entering fast recovery.
  if (c.recovery === Recovery.Open && q.head !== null && q.head !== q.unsent && seqGeq(ack, c.recover)) {
    const lost = c.sackOk ? c.dupAcks >= 3 || headLostBySack(c) : c.dupAcks >= 3;
    if (lost) enterRecovery(c, now);
  }
  // Our FIN acknowledged moves the closing states on.
  if (c.finAcked) {
    switch (c.state) {
      case TcpState.FinWait1:
        c.state = TcpState.FinWait2;
        c.rtxAt = Number.POSITIVE_INFINITY;
        if (c.closedByApp) c.waitAt = tcp.armTimer(now + tcp.config.finWait2TimeoutMs);
        break;
      case TcpState.Closing:
        tcp.enterTimeWait(c);
        break;
      case TcpState.LastAck:
        tcp.destroy(c, null);
        break;
      default:
        break;
    }
  }
  return dataAcked;
}

function enterRecovery(c: TcpConnection, now: number): void {
  c.recover = c.sndNxt;
  c.cc.onLoss(c, now);
  c.recovery = Recovery.Fast;
  c.stats.fastRetransmits++;
  c.tcp.stats.fastRetransmits++;
  if (!c.sackOk) c.renoSacked = Math.min(c.dupAcks * c.smss, Math.max(0, c.flightSize - c.smss));
  else markLostBySack(c);
  markHeadLost(c);
  c.rtxForce = true;
  c.rttSeq = -1;
}

function endRecovery(c: TcpConnection): void {
  c.recovery = Recovery.Open;
  c.rtxForce = false;
  c.renoSacked = 0;
  const q = c.sendQueue;
  for (let t = q.head; t !== null && t !== q.unsent; t = t.next) {
    t.lost = false;
    t.retrans = false;
  }
}

function markHeadLost(c: TcpConnection): void {
  const h = c.sendQueue.head;
  if (h !== null && h !== c.sendQueue.unsent && !h.sacked && !h.lost) {
    h.lost = true;
    h.retrans = false;
  }
}

/** RFC 6675 IsLost(HighACK + 1): three SACKed segments, or more than 2·SMSS SACKed bytes, above it. */
function headLostBySack(c: TcpConnection): boolean {
  const q = c.sendQueue;
  return q.sackedCount >= 3 || q.sackedBytes > 2 * c.smss;
}

/** Marks every un-SACKed segment with enough SACKed data above it as lost (RFC 6675 §4). */
function markLostBySack(c: TcpConnection): void {
  const q = c.sendQueue;
  const total = q.sackedBytes;
  const totalSegs = q.sackedCount;
  if (totalSegs === 0) return;
  let below = 0;
  let belowSegs = 0;
  for (let t = q.head; t !== null && t !== q.unsent; t = t.next) {
    if (t.sacked) {
      below += t.len;
      belowSegs++;
      continue;
    }
    if (totalSegs - belowSegs >= 3 || total - below > 2 * c.smss) {
      if (!t.lost) {
        t.lost = true;
        t.retrans = false;
      }
    } else break;
  }
}

/** Marks the segments that the SACK blocks cover; true when any was new. */
function applySack(c: TcpConnection, o: TcpOptions): boolean {
  const q = c.sendQueue;
  let any = false;
  for (let k = 0; k < o.sackCount; k++) {
    const l = o.sack[2 * k];
    const r = o.sack[2 * k + 1];
    // Ignore D-SACK blocks and blocks outside what is in flight (RFC 2883, RFC 6675 §5).
    if (!seqLt(l, r) || seqLeq(r, c.sndUna) || seqGt(r, c.sndNxt)) continue;
    for (let t = q.head; t !== null && t !== q.unsent; t = t.next) {
      const e = (t.seq + t.len) >>> 0;
      if (seqLeq(e, l)) continue;
      if (seqGeq(t.seq, r)) break;
      if (!t.sacked && seqGeq(t.seq, l) && seqLeq(e, r)) {
        t.sacked = true;
        q.sackedBytes += t.len;
        q.sackedCount++;
        any = true;
      }
    }
  }
  return any;
}

/**
 * Data (and a FIN) at `seq`, trimmed to the window. In order: delivered to the app at once,
 * then whatever it completes from the reassembly queue. Out of order: queued, and an
 * immediate duplicate ACK carries SACK blocks (RFC 5681 §4.2, RFC 2018).
 */
function receive(c: TcpConnection, seq: number, len: number, buf: NetBuf | null, fin: boolean, now: number): void {
  if (seq !== c.rcvNxt) {
    c.stats.outOfOrderIn++;
    c.reasm.insert(seq, len, buf, fin, c.tcp.config.maxOutOfOrder);
    c.ackNow = true;
    c.ackUrgent = true;
    return;
  }
  if (len > 0 && buf !== null) {
    c.rcvNxt = (c.rcvNxt + len) >>> 0;
    c.unackedBytes += len;
    if (len > c.rcvMss) c.rcvMss = len;
    deliver(c, buf, len);
    if (c.gone) return;
  }
  if (fin) {
    finArrived(c, now);
    return;
  }
  if (!c.reasm.empty) {
    // A hole filled: deliver what follows, and acknowledge at once (RFC 5681 §4.2).
    c.ackNow = true;
    c.ackUrgent = true;
    for (;;) {
      const p = c.reasm.take(c.rcvNxt);
      if (p === null) break;
      if (p.len > 0 && p.buf !== null) {
        c.rcvNxt = (c.rcvNxt + p.len) >>> 0;
        deliver(c, p.buf, p.len);
        if (c.gone) return;
      }
      if (p.fin) {
        finArrived(c, now);
        return;
      }
    }
    return;
  }
  // Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): at least every second full-sized segment.
  if (!c.opts.delayedAck || c.unackedBytes >= 2 * c.rcvMss) c.ackNow = true;
  else if (c.delackAt === Number.POSITIVE_INFINITY) c.delackAt = c.tcp.armTimer(now + c.opts.delayedAckMs);
}

function deliver(c: TcpConnection, buf: NetBuf, len: number): void {
  c.rcvUnread += len;
  c.stats.bytesIn += len;
  const h = c.handlers.recv;
  if (h === undefined) c.held.push(buf);
  else h(c, buf);
}

function finArrived(c: TcpConnection, now: number): void {
  const tcp = c.tcp;
  c.rcvNxt = (c.rcvNxt + 1) >>> 0;
  c.ackNow = true;
  const first = !c.finReceived;
  c.finReceived = true;
  switch (c.state) {
    case TcpState.SynReceived:
    case TcpState.Established:
      c.state = TcpState.CloseWait;
      break;
    case TcpState.FinWait1:
      if (c.finAcked) tcp.enterTimeWait(c);
      else c.state = TcpState.Closing;
      break;
    case TcpState.FinWait2:
      tcp.enterTimeWait(c);
      break;
    case TcpState.TimeWait:
      c.waitAt = tcp.armTimer(now + 2 * tcp.config.mslMs);
      break;
    default:
      break;
  }
  if (first) c.handlers.end?.(c);
}
