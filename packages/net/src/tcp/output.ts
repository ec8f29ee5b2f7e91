import type { NetBuf } from '@uk/netdev';
import {
  emitMssOption,
  emitSackOption,
  emitSackPermittedOption,
  emitTcpHeader,
  emitTimestampsOption,
  emitWindowScaleOption,
  finishTcpChecksum,
  TCP_HEADER_LEN,
  TCP_OPT_TIMESTAMPS_LEN,
  TcpFlag,
} from '../wire/tcp.js';
import { type TcpConnection, Recovery } from './connection.js';
import type { TxSegment } from './send-queue.js';
import { seqDiff, seqGt } from './seq.js';
import { TcpState } from './state.js';

/**
 * Everything a connection sends: data segments (from the send queue, without a copy),
 * control segments (SYN, FIN, ACK, RST, probes), and the decision of what may go now —
 * windows, Nagle, loss recovery.
 */

/** The MSS we announce: the path's, capped by the socket option. */
export function ourMss(c: TcpConnection): number {
  const m = c.mtuPayload - TCP_HEADER_LEN;
  return c.opts.maxSegmentSize > 0 ? Math.min(m, c.opts.maxSegmentSize) : m;
}

/** Recomputes the data bytes per segment (RFC 9293 §3.7.1: options count against the MSS). */
export function updateSmss(c: TcpConnection): void {
  let m = Math.min(c.peerMss, ourMss(c));
  if (c.tsOk) m -= TCP_OPT_TIMESTAMPS_LEN;
  c.smss = Math.max(m, 64);
}

/** The timestamp clock (ms) with this connection's random offset (RFC 7323 §5.4). */
export function tsNow(c: TcpConnection): number {
  return (Math.floor(c.tcp.now()) + c.tsOffset) >>> 0;
}

/**
 * The window field for a segment going out now, and the right edge it advertises. The edge
 * never moves left, and moves right only by a useful amount (receiver SWS avoidance,
 * RFC 9293 §3.8.6.2.2). A scaled window is rounded up so that it never shrinks.
 */
function windowField(c: TcpConnection, syn: boolean): number {
  const cur = c.rcvAdvRight;
  let right = (c.rcvNxt + c.windowFree()) >>> 0;
  const grow = seqDiff(right, cur);
  if (!syn) {
    if (grow < 0) right = cur;
    else if (grow > 0 && grow < Math.min(c.opts.receiveBufferSize >> 1, c.rcvMss) && seqDiff(cur, c.rcvNxt) > 0) right = cur;
  }
  let wnd = seqDiff(right, c.rcvNxt);
  if (wnd < 0) wnd = 0;
  let field: number;
  let adv: number;
  if (syn) {
    field = Math.min(wnd, 65535);
    adv = field;
  } else {
    const s = c.rcvScale;
    field = Math.min(Math.ceil(wnd / (1 << s)), 65535);
    adv = field * (1 << s);
  }
  const edge = (c.rcvNxt + adv) >>> 0;
  if (syn || seqGt(edge, cur)) c.rcvAdvRight = edge;
  return field;
}

/** Fills c.sackOut with up to `max` blocks (a pending D-SACK first); returns how many. */
function gatherSack(c: TcpConnection, max: number): number {
  if (max <= 0) return 0;
  let n = 0;
  if (c.dsackRight !== c.dsackLeft) {
    c.sackOut[0] = c.dsackLeft;
    c.sackOut[1] = c.dsackRight;
    n = 1;
  }
  return n + c.reasm.sackBlocks(c.sackOut, n, max - n);
}

function wantsSack(c: TcpConnection): boolean {
  return c.sackOk && (!c.reasm.empty || c.dsackRight !== c.dsackLeft);
}

/** Option bytes of a SYN or SYN-ACK: what we offer (SYN) or what the peer's SYN allows (SYN-ACK). */
function synOptionsLength(c: TcpConnection): number {
  const offer = c.state === TcpState.SynSent;
  let n = 4;
  if (offer ? c.opts.windowScaling : c.wsOk) n += 4;
  if (offer ? c.opts.sack : c.sackOk) n += 4;
  if (offer ? c.opts.timestamps : c.tsOk) n += TCP_OPT_TIMESTAMPS_LEN;
  return n;
}

function writeSynOptions(c: TcpConnection, b: Uint8Array, p: number): number {
  const offer = c.state === TcpState.SynSent;
  p = emitMssOption(b, p, ourMss(c));
  if (offer ? c.opts.windowScaling : c.wsOk) p = emitWindowScaleOption(b, p, c.rcvScale);
  if (offer ? c.opts.sack : c.sackOk) p = emitSackPermittedOption(b, p);
  if (offer ? c.opts.timestamps : c.tsOk) p = emitTimestampsOption(b, p, tsNow(c), offer ? 0 : c.tsRecent);
  return p;
}

/** Writes header and options at `off`; the caller knows `hlen` from the same inputs. */
function writeHeader(c: TcpConnection, b: Uint8Array, off: number, seq: number, flags: number, hlen: number, sackN: number): void {
  const syn = (flags & TcpFlag.SYN) !== 0;
  const ack = (flags & TcpFlag.ACK) !== 0 ? c.rcvNxt : 0;
  emitTcpHeader(b, off, c.localPort, c.remotePort, seq, ack, hlen, flags, windowField(c, syn));
  let p = off + TCP_HEADER_LEN;
  if (syn) p = writeSynOptions(c, b, p);
  else {
    if (c.tsOk) p = emitTimestampsOption(b, p, tsNow(c), c.tsRecent);
    if (sackN > 0) p = emitSackOption(b, p, c.sackOut, sackN);
  }
}

/** Bookkeeping for any segment that carries our ACK. */
function ackSent(c: TcpConnection): void {
  c.ackNow = false;
  c.ackUrgent = false;
  c.lastAckSent = c.rcvNxt;
  c.unackedBytes = 0;
  c.delackAt = Number.POSITIVE_INFINITY;
  c.dsackLeft = c.dsackRight = 0;
}

function output(c: TcpConnection, buf: NetBuf, len: number): void {
  finishTcpChecksum(buf.store, buf.offset, len, c.localAddr, c.remoteAddr, c.tcp.ip.txChecksumOffload(c.remoteAddr));
  c.stats.segmentsOut++;
  c.tcp.stats.segmentsOut++;
  c.tcp.ip.output(buf, c.localAddr, c.remoteAddr, 6);
}

/**
 * Sends a segment without data: SYN, SYN-ACK, a pure ACK, a bare FIN, RST, a probe.
 * False when no buffer was free (the timers will try again).
 */
export function sendControl(c: TcpConnection, flags: number, seq: number): boolean {
  const syn = (flags & TcpFlag.SYN) !== 0;
  let hlen = TCP_HEADER_LEN;
  let sackN = 0;
  if (syn) hlen += synOptionsLength(c);
  else if ((flags & TcpFlag.RST) === 0) {
    if (c.tsOk) hlen += TCP_OPT_TIMESTAMPS_LEN;
    if ((flags & TcpFlag.ACK) !== 0 && wantsSack(c)) {
      sackN = gatherSack(c, c.tsOk ? 3 : 4);
      if (sackN > 0) hlen += 4 + 8 * sackN;
    }
  }
  const buf = c.tcp.ip.allocBuf(c.remoteAddr, hlen);
  if (buf === null) {
    c.tcp.stats.noBuffer++;
    return false;
  }
  buf.length = hlen;
  if ((flags & TcpFlag.RST) !== 0) {
    // A reset carries no options (RFC 9293 §3.10.7.1 forms it from the offending segment).
    emitTcpHeader(buf.store, buf.offset, c.localPort, c.remotePort, seq, (flags & TcpFlag.ACK) !== 0 ? c.rcvNxt : 0, hlen, flags, 0);
  } else writeHeader(c, buf.store, buf.offset, seq, flags, hlen, sackN);
  if ((flags & TcpFlag.ACK) !== 0) ackSent(c);
  output(c, buf, hlen);
  return true;
}

/** A pure ACK of everything received, with SACK blocks when some data arrived out of order. */
export function sendAck(c: TcpConnection): boolean {
  return sendControl(c, TcpFlag.ACK, c.sndNxt);
}

/** SYN (active open) or SYN-ACK (passive or simultaneous open). */
export function sendSyn(c: TcpConnection): boolean {
  const flags = c.state === TcpState.SynSent ? TcpFlag.SYN : TcpFlag.SYN | TcpFlag.ACK;
  return sendControl(c, flags, c.iss);
}

/** RST for an abort: <SEQ=SND.NXT><CTL=RST,ACK>. */
export function sendRst(c: TcpConnection): boolean {
  return sendControl(c, TcpFlag.RST | TcpFlag.ACK, c.sndNxt);
}

/** A keep-alive or zero-window probe: an old sequence number, so that the peer answers with an ACK. */
export function sendProbe(c: TcpConnection): boolean {
  return sendControl(c, TcpFlag.ACK, (c.sndUna - 1) >>> 0);
}

/**
 * Transmits one data segment of the send queue: its header goes into the room in front of
 * the data, and IP gets a view of the segment's buffer. Only if IP still holds an earlier
 * transmission of it is the data copied into a fresh buffer.
 */
function transmit(c: TcpConnection, s: TxSegment, retransmission: boolean): boolean {
  const q = c.sendQueue;
  const end = (s.seq + s.len) >>> 0;
  let flags = TcpFlag.ACK;
  const last = s.next === null;
  if (last) flags |= TcpFlag.PSH;
  if (last && c.finQueued && end === q.endSeq) flags |= TcpFlag.FIN;
  const ts = c.tsOk ? TCP_OPT_TIMESTAMPS_LEN : 0;
  let sackN = 0;
  if (wantsSack(c)) {
    const room = c.mtuPayload - TCP_HEADER_LEN - ts - s.len;
    if (room >= 12) sackN = gatherSack(c, Math.min(c.tsOk ? 3 : 4, (room - 4) >> 3));
  }
  const hlen = TCP_HEADER_LEN + ts + (sackN > 0 ? 4 + 8 * sackN : 0);
  const len = hlen + s.len;
  let out: NetBuf | null = q.view(s, hlen);
  if (out === null) {
    out = c.tcp.ip.allocBuf(c.remoteAddr, len);
    if (out === null) {
      c.tcp.stats.noBuffer++;
      return false;
    }
    out.length = len;
    out.store.set(s.store.subarray(s.dataOff, s.dataOff + s.len), out.offset + hlen);
  }
  writeHeader(c, out.store, out.offset, s.seq, flags, hlen, sackN);
  ackSent(c);
  s.xmits++;
  const now = c.tcp.now();
  if (retransmission) {
    c.stats.retransmits++;
    c.tcp.stats.retransmits++;
    c.rttSeq = -1;
  } else {
    if (!c.tsOk && c.rttSeq < 0) {
      c.rttSeq = s.seq;
      c.rttStart = now;
    }
    const next = (flags & TcpFlag.FIN) !== 0 ? (end + 1) >>> 0 : end;
    if (seqGt(next, c.sndNxt)) c.sndNxt = next;
    c.stats.bytesOut += s.len;
  }
  if ((flags & TcpFlag.FIN) !== 0) c.finSent = true;
  if (c.rtxAt === Number.POSITIVE_INFINITY) c.rtxAt = c.tcp.armTimer(now + c.rtt.rto);
  output(c, out, len);
  return true;
}

/** Bytes in the network by the scoreboard (RFC 6675 "pipe"). */
export function pipe(c: TcpConnection): number {
  const q = c.sendQueue;
  let p = 0;
  for (let s = q.head; s !== null && s !== q.unsent; s = s.next) {
    if (s.sacked) continue;
    if (!s.lost) p += s.len;
    if (s.retrans) p += s.len;
  }
  if (!c.sackOk) p -= c.renoSacked;
  return p > 0 ? p : 0;
}

/**
 * Sends what may go now: lost segments first (in recovery), then new data as far as the
 * peer's window, the congestion window, sender SWS avoidance and Nagle allow, then a bare
 * FIN; an ACK that is still owed goes out (or is coalesced) last.
 */
export function trySend(c: TcpConnection): void {
  const st = c.state;
  if (st >= TcpState.Established && st !== TcpState.FinWait2 && st !== TcpState.TimeWait) sendData(c);
  if (c.ackNow) c.tcp.ackDue(c);
}

function sendData(c: TcpConnection): void {
  const q = c.sendQueue;
  let inPipe = c.recovery === Recovery.Open ? c.flightSize : pipe(c);
  if (c.recovery !== Recovery.Open) {
    for (let s = q.head; s !== null && s !== q.unsent; s = s.next) {
      if (!s.lost || s.retrans || s.sacked) continue;
      if (inPipe > 0 && c.cwnd - inPipe < s.len && !c.rtxForce) return;
      c.rtxForce = false;
      if (!transmit(c, s, true)) return;
      s.retrans = true;
      inPipe += s.len;
    }
  }
  for (;;) {
    const s = q.unsent;
    if (s === null) break;
    if (s.len > c.smss && !q.split(s, c.smss)) return;
    const wndLeft = seqDiff((c.sndUna + c.sndWnd) >>> 0, c.sndNxt);
    let cwndLeft = c.cwnd - inPipe;
    // Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment out.
    if (c.recovery === Recovery.Open && c.dupAcks > 0 && c.dupAcks < 3) cwndLeft += c.dupAcks * c.smss;
    if (s.len > wndLeft) {
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a partial segment only when the window
      // is at least half the largest the peer ever offered.
      if (wndLeft > 0 && wndLeft >= c.maxSndWnd >> 1 && wndLeft <= cwndLeft) {
        if (!q.split(s, wndLeft)) return;
        continue;
      }
      if (c.flightSize === 0 && c.persistAt === Number.POSITIVE_INFINITY) armPersist(c);
      break;
    }
    if (s.len > cwndLeft) break;
    if (s.len < c.smss && s.next === null && !c.finQueued) {
      if (c.corked) break;
      // Nagle (RFC 9293 §3.7.4): one small segment in flight at a time.
      if (!c.opts.noDelay && c.flightSize > 0) break;
    }
    if (!transmit(c, s, false)) return;
    q.unsent = s.next;
    inPipe += s.len;
  }
  if (c.finQueued && !c.finSent && q.unsent === null) {
    if (sendControl(c, TcpFlag.FIN | TcpFlag.ACK, q.endSeq)) {
      c.finSent = true;
      c.sndNxt = (q.endSeq + 1) >>> 0;
      if (c.rtxAt === Number.POSITIVE_INFINITY) c.rtxAt = c.tcp.armTimer(c.tcp.now() + c.rtt.rto);
    }
  }
}

/** Starts the persist timer (zero-window probing) with its current backoff. */
export function armPersist(c: TcpConnection): void {
  const base = Math.max(c.rtt.rto, c.tcp.config.minRtoMs);
  const t = Math.min(base * 2 ** c.persistBackoff, c.tcp.config.maxRtoMs);
  c.persistAt = c.tcp.armTimer(c.tcp.now() + t);
}
