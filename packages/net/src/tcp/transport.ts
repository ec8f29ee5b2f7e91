import { KernelError } from '@uk/hal';
import { bufFrom, flatten, type NetBuf } from '@uk/netdev';
import { formatIpv4, type Ipv4Address } from '../ip/address.js';
import { type CoreTimer, TimerQueue } from '../stack/timers.js';
import type { IpDatagramInfo, IpLayer, Transport } from '../stack/transport.js';
import {
  checkTcp,
  emitTcpHeader,
  finishTcpChecksum,
  parseTcpOptions,
  TCP_HEADER_LEN,
  tcpAck,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLength,
  tcpSeq,
  tcpSrcPort,
  tcpWindow,
  TcpFlag,
} from '../wire/tcp.js';
import { resolveConfig, resolveSocketOptions, type TcpConfig, type TcpConfigInput, type TcpSocketOptions } from './config.js';
import { type TcpHandlers, TcpConnection } from './connection.js';
import { acceptSynOptions, connectionInput, Segment } from './input.js';
import { SequenceSecrets } from './isn.js';
import { TcpListener, type TcpListenerHandlers } from './listener.js';
import { sendAck, sendSyn, updateSmss } from './output.js';
import { seqGeq, seqGt, seqLt } from './seq.js';
import { TcpState } from './state.js';
import { connectionDeadline, runTimers } from './timers.js';

/** Counters of the TCP layer as a whole. */
export interface TcpStats {
  segmentsIn: number;
  segmentsOut: number;
  /** Malformed, bad checksum, not for us, or refused by a check. */
  dropped: number;
  checksumErrors: number;
  resetsIn: number;
  resetsOut: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  challengeAcks: number;
  pawsRejected: number;
  /** Half-open connections dropped for newer SYNs (SYN flood). */
  synDropped: number;
  accepted: number;
  windowProbes: number;
  keepAliveProbes: number;
  /** IpLayer.allocBuf returned null. */
  noBuffer: number;
}

/** What `attach` gets from the stack. */
export interface TcpStackHooks {
  /** Called when TCP needs `poll` before the deadline the last poll returned. */
  wake?(deadline: number): void;
}

export interface ConnectOptions {
  address: Ipv4Address;
  port: number;
  localAddress?: Ipv4Address;
  localPort?: number;
  options?: Partial<TcpSocketOptions>;
}

export interface ListenOptions {
  port: number;
  /** Default: any local address. */
  address?: Ipv4Address;
  /** Half-open connections at most (default: the module's synBacklog). */
  synBacklog?: number;
  options?: Partial<TcpSocketOptions>;
}

/**
 * TCP as an IP transport (protocol 6): demultiplexes segments to connections and listeners,
 * answers segments nobody wants with RST, runs the timers of all connections from `poll`,
 * and offers the raw API (`connect`, `listen`).
 */
export class TcpTransport implements Transport {
  readonly protocol = 6;
  readonly config: TcpConfig;
  readonly stats: TcpStats = {
    segmentsIn: 0,
    segmentsOut: 0,
    dropped: 0,
    checksumErrors: 0,
    resetsIn: 0,
    resetsOut: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    challengeAcks: 0,
    pawsRejected: 0,
    synDropped: 0,
    accepted: 0,
    windowProbes: 0,
    keepAliveProbes: 0,
    noBuffer: 0,
  };
  /** @internal Keys for initial sequence numbers and port offsets (RFC 6528, RFC 6056). */
  readonly secrets: SequenceSecrets;
  /** Timers for the socket layer (wait timeouts), on the same clock, run by poll. */
  readonly timers: TimerQueue;
  private readonly byRemote = new Map<number, TcpConnection>();
  private readonly all = new Set<TcpConnection>();
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly timeWait = new Set<TcpConnection>();
  private ackQueue: TcpConnection[] = [];
  private last: TcpConnection | null = null;
  /** A lower bound of every connection's next deadline. */
  private next = Number.POSITIVE_INFINITY;
  private polling = false;
  private eventTime = 0;
  private readonly segs: Segment[] = [];
  private depth = 0;
  private portCursor = 0;
  private challengeWindow = Number.NEGATIVE_INFINITY;
  private challengeCount = 0;
  private readonly wake: ((deadline: number) => void) | undefined;
  /** Coalesce ACKs until the next poll (only when the stack polls on wake). */
  readonly coalesceAcks: boolean;

  constructor(
    readonly ip: IpLayer,
    private readonly clock: () => number,
    config: TcpConfigInput = {},
    hooks: TcpStackHooks = {},
  ) {
    this.config = resolveConfig(config, (Math.floor(clock() * 1000) ^ 0x5bd1e995) >>> 0);
    this.secrets = new SequenceSecrets(this.config.random);
    this.portCursor = this.config.random();
    this.wake = hooks.wake;
    this.coalesceAcks = hooks.wake !== undefined;
    this.timers = new TimerQueue(clock);
  }

  /** Inside input or poll: callbacks run from the stack, not from the app. */
  get busy(): boolean {
    return this.depth > 0 || this.polling;
  }

  /** The clock, read once per input and per poll (the time of the event being handled). */
  now(): number {
    return this.depth > 0 || this.polling ? this.eventTime : this.clock();
  }

  // ---- Transport ----

  input(info: IpDatagramInfo, buf: NetBuf): void {
    this.stats.segmentsIn++;
    if (buf.next !== null) {
      // A chain (IP reassembly): the header must be contiguous; make it one buffer.
      const flat = bufFrom(flatten(buf));
      buf.release();
      buf = flat;
    }
    const b = buf.store;
    const off = buf.offset;
    const len = buf.length;
    const check = checkTcp(b, off, len, info.src, info.dst, info.checksumVerified);
    if (check !== 'ok' || !isUnicast(info.src) || !isUnicast(info.dst)) {
      if (check === 'checksum') this.stats.checksumErrors++;
      this.stats.dropped++;
      buf.release();
      return;
    }
    const hlen = tcpHeaderLength(b, off);
    const s = this.segs[this.depth] ?? new Segment();
    this.segs[this.depth] = s;
    if (!parseTcpOptions(b, off, hlen, s.opts)) {
      this.stats.dropped++;
      buf.release();
      return;
    }
    s.src = info.src;
    s.dst = info.dst;
    s.srcPort = tcpSrcPort(b, off);
    s.dstPort = tcpDstPort(b, off);
    s.seq = tcpSeq(b, off);
    s.ack = tcpAck(b, off);
    s.flags = tcpFlags(b, off);
    s.wnd = tcpWindow(b, off);
    s.dataLen = len - hlen;
    if (s.srcPort === 0 || s.dstPort === 0) {
      this.stats.dropped++;
      buf.release();
      return;
    }
    buf.offset += hlen;
    buf.length -= hlen;
    if (this.depth === 0 && !this.polling) this.eventTime = this.clock();
    this.depth++;
    try {
      let c = this.lookup(s.dst, s.dstPort, s.src, s.srcPort);
      if (c !== null && c.state === TcpState.TimeWait && this.mayReopen(c, s)) {
        // RFC 9293 §3.10.7.4 / RFC 6191: a new SYN may end TIME-WAIT early.
        this.destroy(c, null);
        c = null;
      }
      if (c !== null) {
        connectionInput(c, s, buf);
        return;
      }
      const l = this.findListener(s.dst, s.dstPort);
      if (l !== null) this.listenInput(l, s, buf);
      else {
        buf.release();
        this.sendResetReply(s);
      }
    } finally {
      this.depth--;
    }
  }

  poll(now: number): number {
    this.polling = true;
    this.eventTime = now;
    try {
      if (this.ackQueue.length > 0) this.flushAcks();
      this.timers.run(now);
      if (now >= this.next) {
        let min = Number.POSITIVE_INFINITY;
        for (const c of this.all) {
          let d = connectionDeadline(c);
          if (d <= now) {
            runTimers(c, now);
            if (c.gone) continue;
            d = connectionDeadline(c);
          }
          if (d < min) min = d;
        }
        this.next = min;
      }
      // Timers may have queued ACKs of their own.
      if (this.ackQueue.length > 0) this.flushAcks();
    } finally {
      this.polling = false;
    }
    return Math.min(this.next, this.timers.next, this.ackQueue.length > 0 ? now : Number.POSITIVE_INFINITY);
  }

  icmpError(type: number, code: number, src: Ipv4Address, dst: Ipv4Address, quoted: Uint8Array): void {
    if (quoted.length < 8) return;
    const localPort = (quoted[0] << 8) | quoted[1];
    const remotePort = (quoted[2] << 8) | quoted[3];
    const seq = ((quoted[4] << 24) | (quoted[5] << 16) | (quoted[6] << 8) | quoted[7]) >>> 0;
    const c = this.lookup(src, localPort, dst, remotePort);
    if (c === null) return;
    // RFC 5927 §4.1: only an error quoting a sequence number in flight is believed.
    if (!(seqGeq(seq, c.sndUna) && seqLt(seq, c.sndNxt)) && !(c.state === TcpState.SynSent && seq === c.iss)) return;
    if (type === 3) {
      if (code === 4) {
        // Fragmentation needed: IP learned the path MTU; segment again to fit.
        const m = this.ip.mtuFor(c.remoteAddr);
        if (m < c.mtuPayload) {
          c.mtuPayload = m;
          updateSmss(c);
          const h = c.sendQueue.head;
          if (h !== null && h !== c.sendQueue.unsent) h.lost = true;
        }
        return;
      }
      const hard = code === 2 || code === 3;
      const err =
        code === 3 || code === 2
          ? new KernelError('ECONNREFUSED', `${formatIpv4(dst)} port ${remotePort} is unreachable`)
          : code === 0 || code === 6
            ? new KernelError('ENETUNREACH', `network of ${formatIpv4(dst)} is unreachable`)
            : new KernelError('EHOSTUNREACH', `host ${formatIpv4(dst)} is unreachable`);
      // RFC 1122 §4.2.3.9: hard errors abort an opening connection; the rest are soft.
      if (hard && c.state === TcpState.SynSent) this.destroy(c, err);
      else c.softError = err;
      return;
    }
    if (type === 11 || type === 12) {
      c.softError = new KernelError('EHOSTUNREACH', `ICMP ${type === 11 ? 'time exceeded' : 'parameter problem'} from the path to ${formatIpv4(dst)}`);
    }
  }

  // ---- raw API ----

  /** Active open: sends SYN; `handlers.connected` or `handlers.error` tells the outcome. */
  connect(opts: ConnectOptions, handlers: TcpHandlers = {}): TcpConnection {
    const remote = opts.address >>> 0;
    if (!isUnicast(remote)) throw new KernelError('EINVAL', `cannot connect to ${formatIpv4(remote)}: not a unicast address`);
    if (!(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) throw new KernelError('EINVAL', `port must be 1..65535, got ${opts.port}`);
    const local = opts.localAddress ?? this.ip.sourceFor(remote);
    if (local === undefined) throw new KernelError('ENETUNREACH', `no route to ${formatIpv4(remote)}`);
    const sockOpts = resolveSocketOptions(this.config.socket, opts.options);
    let port = opts.localPort ?? 0;
    if (port !== 0) {
      if (this.lookup(local, port, remote, opts.port) !== null || this.findListener(local, port) !== null) {
        throw new KernelError('EADDRINUSE', `local port ${port} is in use`);
      }
    } else port = this.ephemeralPort(local, remote, opts.port);
    const now = this.now();
    const c = new TcpConnection(this, local, port, remote, opts.port, sockOpts, handlers);
    this.initConnection(c, now);
    c.state = TcpState.SynSent;
    this.register(c);
    c.rttStart = now;
    sendSyn(c);
    c.rtxAt = this.armTimer(now + c.rtt.rto);
    return c;
  }

  /** Passive open on `port` (any local address unless `address`). EADDRINUSE when taken. */
  listen(opts: ListenOptions, handlers: TcpListenerHandlers): TcpListener {
    const port = opts.port;
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new KernelError('EINVAL', `port must be 1..65535, got ${port}`);
    const addr = (opts.address ?? 0) >>> 0;
    const list = this.listeners.get(port) ?? [];
    for (const l of list) {
      if (l.localAddr === addr || l.localAddr === 0 || addr === 0) throw new KernelError('EADDRINUSE', `port ${port} already has a listener`);
    }
    const l = new TcpListener(this, addr, port, resolveSocketOptions(this.config.socket, opts.options), handlers, opts.synBacklog ?? this.config.synBacklog);
    list.push(l);
    this.listeners.set(port, list);
    return l;
  }

  /** Live connections (not listeners), TIME-WAIT included. */
  get connections(): readonly TcpConnection[] {
    return [...this.all];
  }

  // ---- internals used by connections ----

  /** Notes a timer deadline; tells the stack when it moved earlier. Returns `t`. */
  armTimer(t: number): number {
    if (t < this.next) {
      this.next = t;
      if (!this.polling) this.wake?.(t);
    }
    return t;
  }

  /** An ACK is owed: coalesced until the next poll when the stack polls on wake, else sent now. */
  ackDue(c: TcpConnection): void {
    if (!this.coalesceAcks || this.polling || c.ackUrgent) {
      sendAck(c);
      return;
    }
    if (c.queuedForAck) return;
    c.queuedForAck = true;
    this.ackQueue.push(c);
    if (this.ackQueue.length === 1) this.wake?.(this.now());
  }

  private flushAcks(): void {
    const q = this.ackQueue;
    this.ackQueue = [];
    for (const c of q) {
      c.queuedForAck = false;
      if (!c.gone && c.ackNow) sendAck(c);
    }
  }

  /** RFC 5961 §7: challenge ACKs, at most `challengeAckLimit` per second. */
  challengeAck(c: TcpConnection): void {
    const now = this.now();
    if (now - this.challengeWindow >= 1000) {
      this.challengeWindow = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.config.challengeAckLimit) return;
    this.challengeCount++;
    this.stats.challengeAcks++;
    sendAck(c);
  }

  /** @internal The RST for a segment that belongs to no connection (RFC 9293 §3.10.7.1). */
  sendResetReply(s: Segment): void {
    if ((s.flags & TcpFlag.RST) !== 0) return;
    let seq = 0;
    let ack = 0;
    let flags = TcpFlag.RST;
    if ((s.flags & TcpFlag.ACK) !== 0) seq = s.ack;
    else {
      const segLen = s.dataLen + ((s.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((s.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
      ack = (s.seq + segLen) >>> 0;
      flags |= TcpFlag.ACK;
    }
    const buf = this.ip.allocBuf(s.src, TCP_HEADER_LEN);
    if (buf === null) {
      this.stats.noBuffer++;
      return;
    }
    buf.length = TCP_HEADER_LEN;
    emitTcpHeader(buf.store, buf.offset, s.dstPort, s.srcPort, seq, ack, TCP_HEADER_LEN, flags, 0);
    finishTcpChecksum(buf.store, buf.offset, TCP_HEADER_LEN, s.dst, s.src, this.ip.txChecksumOffload(s.src));
    this.stats.resetsOut++;
    this.stats.segmentsOut++;
    this.ip.output(buf, s.dst, s.src, 6);
  }

  /** Removes a connection for good; `err` goes to its error handler. */
  destroy(c: TcpConnection, err: KernelError | null): void {
    if (c.gone) return;
    c.gone = true;
    c.state = TcpState.Closed;
    this.unregister(c);
    this.all.delete(c);
    this.timeWait.delete(c);
    if (c.listener !== null) {
      c.listener.halfOpen.delete(c);
      c.listener = null;
    }
    c.sendQueue.clear();
    c.reasm.clear();
    for (const b of c.held) b.release();
    c.held = [];
    c.rtxAt = c.persistAt = c.delackAt = c.keepAt = c.waitAt = Number.POSITIVE_INFINITY;
    c.ackNow = false;
    c.error = err;
    if (err !== null) c.handlers.error?.(c, err);
    c.handlers.closed?.(c);
  }

  /** TIME-WAIT: keep the 4-tuple for 2·MSL, nothing else. */
  enterTimeWait(c: TcpConnection): void {
    c.state = TcpState.TimeWait;
    c.sendQueue.clear();
    c.reasm.clear();
    c.rtxAt = c.persistAt = c.keepAt = Number.POSITIVE_INFINITY;
    c.waitAt = this.armTimer(this.now() + 2 * this.config.mslMs);
    this.timeWait.add(c);
    if (this.timeWait.size > this.config.maxTimeWait) {
      const oldest = this.timeWait.values().next().value;
      if (oldest !== undefined && oldest !== c) this.destroy(oldest, null);
    }
  }

  removeListener(l: TcpListener): void {
    const list = this.listeners.get(l.localPort);
    if (list === undefined) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(l.localPort);
  }

  // ---- demultiplexing ----

  private lookup(localAddr: Ipv4Address, localPort: number, remoteAddr: Ipv4Address, remotePort: number): TcpConnection | null {
    const l = this.last;
    if (l !== null && l.remotePort === remotePort && l.localPort === localPort && l.remoteAddr === remoteAddr && l.localAddr === localAddr) return l;
    let c = this.byRemote.get(remoteAddr * 65536 + remotePort) ?? null;
    while (c !== null && !(c.localPort === localPort && c.localAddr === localAddr)) c = c.hashNext;
    if (c !== null) this.last = c;
    return c;
  }

  private register(c: TcpConnection): void {
    const key = c.remoteAddr * 65536 + c.remotePort;
    c.hashNext = this.byRemote.get(key) ?? null;
    this.byRemote.set(key, c);
    this.all.add(c);
  }

  private unregister(c: TcpConnection): void {
    if (this.last === c) this.last = null;
    const key = c.remoteAddr * 65536 + c.remotePort;
    let p = this.byRemote.get(key) ?? null;
    if (p === c) {
      if (c.hashNext === null) this.byRemote.delete(key);
      else this.byRemote.set(key, c.hashNext);
    } else {
      while (p !== null && p.hashNext !== c) p = p.hashNext;
      if (p !== null) p.hashNext = c.hashNext;
    }
    c.hashNext = null;
  }

  private findListener(addr: Ipv4Address, port: number): TcpListener | null {
    const list = this.listeners.get(port);
    if (list === undefined) return null;
    let any: TcpListener | null = null;
    for (const l of list) {
      if (l.localAddr === addr) return l;
      if (l.localAddr === 0) any = l;
    }
    return any;
  }

  /** RFC 6056 algorithm 3: a keyed offset per destination, then the first free port. */
  private ephemeralPort(local: Ipv4Address, remote: Ipv4Address, remotePort: number): number {
    const [lo, hi] = this.config.ephemeralPorts;
    const n = hi - lo + 1;
    const offset = this.secrets.portOffset(local, remote, remotePort);
    for (let i = 0; i < n; i++) {
      const port = lo + ((offset + this.portCursor + i) % n);
      if (this.lookup(local, port, remote, remotePort) === null && this.findListener(local, port) === null) {
        this.portCursor = (this.portCursor + i + 1) >>> 0;
        return port;
      }
    }
    throw new KernelError('EADDRNOTAVAIL', `no free local port in ${lo}..${hi} for ${formatIpv4(remote)}:${remotePort}`);
  }

  /** Sequence numbers, timestamps, window scale and MSS of a new connection. */
  private initConnection(c: TcpConnection, now: number): void {
    c.iss = this.secrets.isn(c.localAddr, c.localPort, c.remoteAddr, c.remotePort, now);
    c.sndUna = c.iss;
    c.sndNxt = (c.iss + 1) >>> 0;
    c.recover = c.iss;
    c.sendQueue.endSeq = (c.iss + 1) >>> 0;
    c.tsOffset = this.config.random();
    c.mtuPayload = this.ip.mtuFor(c.remoteAddr);
    let shift = 0;
    if (c.opts.windowScaling) while (shift < 14 && c.opts.receiveBufferSize > 65535 * 2 ** shift) shift++;
    c.rcvScale = shift;
    // Provisional until the peer's SYN tells its MSS and options.
    c.peerMss = 65535;
    c.tsOk = c.opts.timestamps;
    updateSmss(c);
    c.tsOk = false;
    c.lastRecvAt = now;
  }

  private mayReopen(c: TcpConnection, s: Segment): boolean {
    if ((s.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN) return false;
    if (this.findListener(s.dst, s.dstPort) === null) return false;
    if (c.tsOk && s.opts.hasTimestamps) return seqGt(s.opts.tsVal, c.tsRecent);
    return seqGt(s.seq, c.rcvNxt);
  }

  /** LISTEN (RFC 9293 §3.10.7.2): RST is ignored, an ACK gets a RST, a SYN opens a half-open connection. */
  private listenInput(l: TcpListener, s: Segment, buf: NetBuf): void {
    // Data on a SYN is not taken (no TCP Fast Open); the peer sends it again.
    buf.release();
    const f = s.flags;
    if ((f & TcpFlag.RST) !== 0) return;
    if ((f & TcpFlag.ACK) !== 0) {
      this.sendResetReply(s);
      return;
    }
    if ((f & TcpFlag.SYN) === 0) return;
    if (l.halfOpen.size >= l.synBacklog) {
      const oldest = l.halfOpen.values().next().value;
      if (oldest !== undefined) {
        this.stats.synDropped++;
        this.destroy(oldest, null);
      }
    }
    const now = this.now();
    const c = new TcpConnection(this, s.dst, s.dstPort, s.src, s.srcPort, l.opts, {});
    c.passive = true;
    c.listener = l;
    this.initConnection(c, now);
    c.irs = s.seq;
    c.rcvNxt = (s.seq + 1) >>> 0;
    c.rcvAdvRight = c.rcvNxt;
    acceptSynOptions(c, s.opts, now);
    c.sndWnd = s.wnd;
    c.sndWl1 = s.seq;
    c.sndWl2 = c.iss;
    c.state = TcpState.SynReceived;
    this.register(c);
    l.halfOpen.add(c);
    c.rttStart = now;
    sendSyn(c);
    c.rtxAt = this.armTimer(now + c.rtt.rto);
  }

  /** A timer on the stack's clock for the socket layer (wait timeouts). */
  after(ms: number, fn: () => void): CoreTimer {
    const t = this.timers.after(ms, fn);
    this.armTimer(this.now() + ms);
    return t;
  }
}

function isUnicast(a: Ipv4Address): boolean {
  return a !== 0 && a !== 0xffffffff && a >>> 28 !== 14;
}
