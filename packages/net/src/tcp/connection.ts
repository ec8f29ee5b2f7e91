import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import type { Ipv4Address } from '../ip/address.js';
import { TCP_MAX_SACK_BLOCKS } from '../wire/tcp.js';
import type { TcpSocketOptions } from './config.js';
import type { CongestionController, CongestionView } from './congestion/control.js';
import type { TcpListener } from './listener.js';
import { sendRst, trySend } from './output.js';
import { Reassembly } from './reassembly.js';
import { RttEstimator } from './rtt.js';
import { SendQueue } from './send-queue.js';
import { seqDiff } from './seq.js';
import { TcpState, tcpStateName } from './state.js';
import type { TcpTransport } from './transport.js';

/**
 * What the raw API tells its user. Every handler is optional; each runs from inside the
 * stack (input, poll or an API call), so it must not block.
 */
export interface TcpHandlers {
  /** An active open completed (ESTABLISHED). */
  connected?(c: TcpConnection): void;
  /**
   * In-order data. The handler owns `buf` (its window is the data; it may be the device's
   * receive buffer, handed over without a copy): it must release() it, and call
   * `c.recved(n)` once it has consumed n bytes so that the window opens again.
   */
  recv?(c: TcpConnection, buf: NetBuf): void;
  /** The peer sent FIN: no more data will come. */
  end?(c: TcpConnection): void;
  /** `bytes` of data were acknowledged: send buffer space is free again. */
  sent?(c: TcpConnection, bytes: number): void;
  /** The connection failed (reset, refused, timed out, unreachable); it is closed now. */
  error?(c: TcpConnection, err: KernelError): void;
  /** The connection is gone: fully closed, aborted or failed. Called last, once. */
  closed?(c: TcpConnection): void;
}

/** Where loss recovery stands (RFC 6582, RFC 6675, RFC 6298). */
export const Recovery = { Open: 0, Fast: 1, Loss: 2 } as const;
export type Recovery = (typeof Recovery)[keyof typeof Recovery];

/** Counters of one connection. */
export interface TcpConnectionStats {
  segmentsIn: number;
  segmentsOut: number;
  bytesIn: number;
  bytesOut: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  dupAcksIn: number;
  outOfOrderIn: number;
}

/**
 * A TCP connection (lwIP's PCB): the state of RFC 9293's TCB plus the send buffer,
 * reassembly queue, timers and congestion state. Created by `TcpTransport.connect` or by a
 * listener; the raw API is its methods and `TcpHandlers`.
 */
export class TcpConnection implements CongestionView {
  state: TcpState = TcpState.Closed;
  /** Opened by a listener (passive) rather than by connect. */
  passive = false;
  listener: TcpListener | null = null;
  /** Next connection with the same demux hash. */
  hashNext: TcpConnection | null = null;
  handlers: TcpHandlers;
  readonly opts: TcpSocketOptions;
  readonly stats: TcpConnectionStats = { segmentsIn: 0, segmentsOut: 0, bytesIn: 0, bytesOut: 0, retransmits: 0, fastRetransmits: 0, timeouts: 0, dupAcksIn: 0, outOfOrderIn: 0 };

  // Send sequence space (RFC 9293 §3.3.1).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer has offered (RFC 5961 §5.2; sender SWS avoidance). */
  maxSndWnd = 0;
  /** Shift applied to the peer's windows (its window scale option). */
  sndScale = 0;
  /** The peer's MSS option (536 when absent). */
  peerMss = 536;
  /** Data bytes per full segment we send (effective send MSS, option space taken off). */
  smss = 536;
  /** Transport payload that reaches the peer unfragmented (path MTU − IP header). */
  mtuPayload = 576 - 20;
  /** @internal Data written and not yet acknowledged. */
  readonly sendQueue: SendQueue;
  finQueued = false;
  finSent = false;
  finAcked = false;
  /** Hold small segments until `more` data or a flush (MSG_MORE / TCP_CORK). */
  corked = false;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** Our window shift (what our window scale option announced). */
  rcvScale = 0;
  /** Right edge of the window last advertised; never moves left (RFC 9293 §3.8.6.2.2). */
  rcvAdvRight = 0;
  /** Data handed to the app and not yet consumed (recved). */
  rcvUnread = 0;
  /** Largest data segment seen from the peer (a "full-sized" one, for delayed ACKs). */
  rcvMss = 536;
  /** @internal Out-of-order segments waiting for the hole before them. */
  readonly reasm = new Reassembly();
  finReceived = false;
  /** Data that arrived while no recv handler was set. */
  held: NetBuf[] = [];
  /** Our side is done sending (shutdown or close called). */
  shutWr = false;
  /** The app closed the connection entirely (no more reads either). */
  closedByApp = false;

  // Options in force.
  tsOk = false;
  tsRecent = 0;
  tsRecentAt = 0;
  tsOffset = 0;
  sackOk = false;
  wsOk = false;
  /** A D-SACK block (RFC 2883) to report in the next ACK, [left, right); right === left: none. */
  dsackLeft = 0;
  dsackRight = 0;
  readonly sackOut = new Float64Array(2 * TCP_MAX_SACK_BLOCKS);

  // Acknowledgments.
  /** An ACK must go out now (or at the next poll when coalescing). */
  ackNow = false;
  /** ...and not wait for the poll: a duplicate ACK for out-of-order data (RFC 5681 §4.2). */
  ackUrgent = false;
  /** RCV.NXT as our last ACK carried it (RFC 7323's Last.ACK.sent). */
  lastAckSent = 0;
  /** Bytes received since our last ACK. */
  unackedBytes = 0;
  lastOowAckAt = Number.NEGATIVE_INFINITY;

  // RTT and retransmission.
  /** @internal SRTT, RTTVAR and RTO (RFC 6298); `info()` reports them. */
  readonly rtt: RttEstimator;
  /** Retransmissions of the current timeout series. */
  retries = 0;
  /** When the first unanswered retransmission of the current series happened (user timeout). */
  firstRetransmitAt = -1;
  synRetransmitted = false;
  /** Karn timing of one segment when timestamps are off: its seq, or -1. */
  rttSeq = -1;
  rttStart = 0;

  // Congestion.
  cwnd = 0;
  ssthresh = Number.POSITIVE_INFINITY;
  readonly cc: CongestionController;
  /** @internal Where loss recovery stands. */
  recovery: Recovery = Recovery.Open;
  /** RFC 6582's recover: SND.NXT when the last recovery began. */
  recover = 0;
  dupAcks = 0;
  /** Retransmit the first lost segment now, whatever the window (entering recovery; a partial ACK). */
  rtxForce = false;
  /** Without SACK: bytes the duplicate ACKs say left the network (an estimate of what SACK would tell). */
  renoSacked = 0;

  // Timers: absolute times in ms, Infinity when off.
  rtxAt = Number.POSITIVE_INFINITY;
  persistAt = Number.POSITIVE_INFINITY;
  persistBackoff = 0;
  delackAt = Number.POSITIVE_INFINITY;
  keepAt = Number.POSITIVE_INFINITY;
  keepProbes = 0;
  /** TIME-WAIT's end, FIN-WAIT-2's limit. */
  waitAt = Number.POSITIVE_INFINITY;
  lastRecvAt = 0;
  /** The app asked for an ACK coalesced at the next poll. */
  queuedForAck = false;
  /** Removed from the transport; every later call is refused. */
  gone = false;
  /** The error that closed it, if any. */
  error: KernelError | null = null;
  /** A soft error (ICMP) remembered for when the connection times out (RFC 1122 §4.2.3.9). */
  softError: KernelError | null = null;

  constructor(
    readonly tcp: TcpTransport,
    public localAddr: Ipv4Address,
    public localPort: number,
    readonly remoteAddr: Ipv4Address,
    readonly remotePort: number,
    opts: TcpSocketOptions,
    handlers: TcpHandlers,
  ) {
    this.opts = { ...opts };
    this.handlers = handlers;
    const cfg = tcp.config;
    this.rtt = new RttEstimator(cfg.initialRtoMs, cfg.minRtoMs, cfg.maxRtoMs);
    this.cc = opts.congestionControl.create();
    this.sendQueue = new SendQueue((len) => tcp.ip.allocBuf(this.remoteAddr, len));
  }

  // ---- CongestionView ----

  get flightSize(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  get srtt(): number {
    return this.rtt.srtt;
  }

  // ---- raw API ----

  /** The state's RFC name (ESTABLISHED, TIME-WAIT...). */
  get stateName(): string {
    return tcpStateName(this.state);
  }

  /** Free space in the send buffer: how many bytes `write` would take now. */
  get writable(): number {
    if (this.shutWr || this.gone || !canQueueData(this.state)) return 0;
    const q = this.sendQueue;
    const free = this.opts.sendBufferSize - q.memory;
    return Math.max(0, free) + q.tailRoom(this.smss);
  }

  /**
   * Copies bytes into the send buffer and sends what the windows, Nagle and `more` allow.
   * Returns how many bytes were taken (fewer than asked when the buffer is full: wait for
   * `sent`). Data written before the connection is established is sent once it is.
   */
  write(data: Uint8Array, opts?: { more?: boolean }): number {
    this.checkWritable();
    const q = this.sendQueue;
    const n = q.append(data, 0, data.length, this.smss, this.opts.sendBufferSize);
    this.corked = opts?.more === true;
    if (n > 0 && this.state >= TcpState.Established) trySend(this);
    return n;
  }

  /** Sends what is queued now, ignoring a previous `more` (lwIP's tcp_output). */
  flush(): void {
    this.corked = false;
    if (!this.gone && this.state >= TcpState.Established) trySend(this);
  }

  /** The app consumed `n` bytes of delivered data: the receive window opens by as much. */
  recved(n: number): void {
    if (this.gone || n <= 0) return;
    this.rcvUnread = Math.max(0, this.rcvUnread - n);
    if (this.state < TcpState.Established || this.finReceived) return;
    // A window update when the peer sees less than half the buffer and we can offer a useful
    // amount more (RFC 9293 §3.8.6.2.2; RFC 1122 §4.2.3.3).
    const offered = seqDiff(this.rcvAdvRight, this.rcvNxt);
    const max = this.maxWindow();
    const grow = seqDiff((this.rcvNxt + this.windowFree()) >>> 0, this.rcvAdvRight);
    if (offered < max >> 1 && grow >= Math.min(max >> 1, this.rcvMss)) {
      this.ackNow = true;
      // Inside input the ACK at its end carries the window; from the app, send it now.
      if (!this.tcp.busy) trySend(this);
    }
  }

  /** Replaces the handlers; data that arrived meanwhile is delivered to the new recv. */
  setHandlers(h: TcpHandlers): void {
    this.handlers = h;
    if (h.recv !== undefined && this.held.length > 0) {
      const held = this.held;
      this.held = [];
      for (const b of held) {
        if (this.gone || this.handlers.recv === undefined) {
          if (this.gone) b.release();
          else this.held.push(b);
          continue;
        }
        this.handlers.recv(this, b);
      }
    }
  }

  /** No more data from us: FIN after what is queued (half-close). */
  shutdown(): void {
    if (this.gone) throw new KernelError('ENOTCONN', 'the connection is closed');
    if (this.shutWr) return;
    this.shutWr = true;
    this.queueFin();
  }

  /**
   * Closes both directions: FIN after queued data, then the connection lingers in the stack
   * until the close completes. With unread received data it resets instead (RFC 2525 §2.17).
   */
  close(): void {
    if (this.gone) return;
    this.closedByApp = true;
    if (this.state === TcpState.SynSent || this.state === TcpState.Listen || this.state === TcpState.Closed) {
      this.tcp.destroy(this, null);
      return;
    }
    if (this.rcvUnread > 0 || this.held.length > 0 || !this.reasm.empty) {
      this.abort();
      return;
    }
    if (!this.shutWr) {
      this.shutWr = true;
      this.queueFin();
    }
    if (this.state === TcpState.FinWait2) this.waitAt = this.tcp.armTimer(this.tcp.now() + this.tcp.config.finWait2TimeoutMs);
  }

  /** Resets the connection (RST) and forgets it at once. */
  abort(): void {
    if (this.gone) return;
    if (this.state >= TcpState.SynReceived && this.state !== TcpState.TimeWait) sendRst(this);
    this.tcp.destroy(this, null);
  }

  setNoDelay(on: boolean): void {
    this.opts.noDelay = on;
    if (on) this.flush();
  }

  setDelayedAck(on: boolean): void {
    this.opts.delayedAck = on;
  }

  /** Keep-alive (RFC 9293 §3.8.4): probes after `idleMs` of silence, `count` of them `intervalMs` apart. */
  setKeepAlive(on: boolean, opts?: { idleMs?: number; intervalMs?: number; count?: number }): void {
    this.opts.keepAlive = on;
    if (opts?.idleMs !== undefined) this.opts.keepIdleMs = opts.idleMs;
    if (opts?.intervalMs !== undefined) this.opts.keepIntervalMs = opts.intervalMs;
    if (opts?.count !== undefined) this.opts.keepCount = opts.count;
    this.keepProbes = 0;
    this.keepAt = on && this.state >= TcpState.Established ? this.tcp.armTimer(this.tcp.now() + this.opts.keepIdleMs) : Number.POSITIVE_INFINITY;
  }

  /** Resizes the buffers: a larger receive buffer opens the window (its scale was fixed at SYN time). */
  setBufferSizes(sizes: { send?: number; receive?: number }): void {
    if (sizes.send !== undefined) this.opts.sendBufferSize = sizes.send;
    if (sizes.receive !== undefined) this.opts.receiveBufferSize = sizes.receive;
  }

  /** Numbers for diagnostics and tests. */
  info(): { state: string; cwnd: number; ssthresh: number; srtt: number; rto: number; smss: number; sndWnd: number; rcvWnd: number; inFlight: number; queued: number; outOfOrder: number; congestionControl: string } {
    return {
      state: this.stateName,
      cwnd: this.cwnd,
      ssthresh: this.ssthresh,
      srtt: this.rtt.srtt,
      rto: this.rtt.rto,
      smss: this.smss,
      sndWnd: this.sndWnd,
      rcvWnd: seqDiff(this.rcvAdvRight, this.rcvNxt),
      inFlight: this.flightSize,
      queued: this.sendQueue.bytes,
      outOfOrder: this.reasm.bytes,
      congestionControl: this.opts.congestionControl.name,
    };
  }

  // ---- internals shared by input, output and timers ----

  /** The largest window we can offer: the buffer, within what the window field and scale express. */
  maxWindow(): number {
    return Math.min(this.opts.receiveBufferSize, 65535 * 2 ** this.rcvScale);
  }

  /** Receive buffer space: what the window may cover beyond RCV.NXT. */
  windowFree(): number {
    const f = Math.min(this.maxWindow(), this.opts.receiveBufferSize - this.rcvUnread);
    return f > 0 ? f : 0;
  }

  private checkWritable(): void {
    if (this.gone) throw this.error ?? new KernelError('ENOTCONN', 'the connection is closed');
    if (this.shutWr) throw new KernelError('EPIPE', 'the connection was shut down for writing');
    if (!canQueueData(this.state)) throw new KernelError('ENOTCONN', `cannot write in state ${this.stateName}`);
  }

  /** Queues our FIN after the data (called by shutdown/close, and on establishment if they came first). */
  queueFin(): void {
    switch (this.state) {
      case TcpState.SynSent:
        this.tcp.destroy(this, null);
        return;
      case TcpState.SynReceived:
        // RFC 9293 §3.10.4: the FIN waits until the connection is established (see establish()).
        return;
      case TcpState.Established:
        this.state = TcpState.FinWait1;
        break;
      case TcpState.CloseWait:
        this.state = TcpState.LastAck;
        break;
      default:
        return;
    }
    this.finQueued = true;
    trySend(this);
  }
}

/** States in which written data may be queued (it is sent once established). */
function canQueueData(s: TcpState): boolean {
  return s === TcpState.SynSent || s === TcpState.SynReceived || s === TcpState.Established || s === TcpState.CloseWait;
}
