import net from 'node:net';
import {
  type IpDatagramInfo,
  type Ipv4Address,
  type NetStack,
  type TcpConnection,
  type TcpListener,
  type TcpSocketOptions,
  TcpState,
  TcpTransport,
  tcpWire,
  type Transport,
} from '@uk/net';
import { copyBuf, type NetBuf, windowOf } from '../link/frame-buf.js';
import { sendRefusal } from '../link/datagram-out.js';
import type { Addressing } from '../spec/addressing.js';
import type { UserNetLimits } from '../spec/user-options.js';
import { type SpliceStats, splice } from './splice.js';

const { TcpFlag, checkTcp, tcpSrcPort, tcpDstPort, tcpSeq } = tcpWire;

/** How long the guest may take to answer the gateway's SYN-ACK once the host connected (ms). */
const HANDSHAKE_TIMEOUT_MS = 45_000;

export interface TcpNatStats extends SpliceStats {
  /** Connections the guest opened that reached the host. */
  outbound: number;
  /** Of those, refused (RST to the guest): the host said no, timed out, or the rules forbid. */
  refused: number;
  /** Connections from forwarded host ports to the guest. */
  inbound: number;
  /** Host connections turned away because the connection budget was spent. */
  overBudget: number;
}

/** Where a guest's connection to an address goes on the host; undefined: refuse it. */
export type HostTarget = (dst: Ipv4Address, port: number) => string | undefined;

interface Flow {
  state: 'connecting' | 'handshake' | 'open';
  socket?: net.Socket;
  /** The guest's SYN, kept until the host has answered. */
  syn?: NetBuf;
  info: IpDatagramInfo;
  timer?: NodeJS.Timeout;
  conn?: TcpConnection;
  /** The guest's port, the port it wanted, and the sequence number of its SYN (for the RST). */
  srcPort: number;
  port: number;
  seq: number;
  listenerKey: string;
}

/**
 * TCP for the user network: the gateway's own TCP (an @uk/net TcpTransport) behind an
 * interceptor registered as the stack's protocol 6. The interceptor holds every SYN from the
 * guest — to any address, since the link hands it datagrams for every destination — opens the
 * host connection first, and only then lets the gateway's TCP answer SYN-ACK from the address
 * the guest wanted (a listener made for that address and port); if the host refuses or does
 * not answer, the guest gets RST. Established connections are spliced to their host sockets.
 * Connections from forwarded host ports are opened by the gateway's TCP toward the guest.
 */
export class TcpNat implements Transport {
  readonly protocol = 6;
  readonly tcp: TcpTransport;
  readonly stats: TcpNatStats = { outbound: 0, refused: 0, inbound: 0, overBudget: 0, bytesToGuest: 0, bytesToHost: 0, resetsToGuest: 0, resetsToHost: 0 };
  readonly socketOptions: Partial<TcpSocketOptions>;
  readonly #flows = new Map<string, Flow>();
  readonly #listeners = new Map<string, { l: TcpListener; refs: number }>();
  readonly #sockets = new Set<net.Socket>();
  #connecting = 0;
  #closed = false;

  constructor(
    private readonly stack: NetStack,
    private readonly net: Addressing,
    private readonly limits: UserNetLimits,
    private readonly target: HostTarget,
  ) {
    this.socketOptions = { noDelay: true, sendBufferSize: limits.tcpBuffer, receiveBufferSize: limits.tcpBuffer };
    this.tcp = new TcpTransport(stack.ip, () => stack.now(), { socket: this.socketOptions, synBacklog: limits.pendingConnects, maxTimeWait: 1024 }, { wake: (d) => stack.wake(d) });
  }

  /** Host sockets open now (both directions): what the connection budget counts. */
  get hostSockets(): number {
    return this.#sockets.size;
  }

  /** Guest connections waiting for the host. */
  get connecting(): number {
    return this.#connecting;
  }

  // ── Transport ───────────────────────────────────────────────────────────────────────────

  input(info: IpDatagramInfo, buf: NetBuf): void {
    if (buf.next === null && buf.length >= tcpWire.TCP_HEADER_LEN) {
      const flags = buf.store[buf.offset + 13];
      if ((flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN && this.#syn(info, buf)) return;
    }
    this.tcp.input(info, buf);
  }

  poll(now: number): number {
    return this.tcp.poll(now);
  }

  icmpError(type: number, code: number, src: Ipv4Address, dst: Ipv4Address, quoted: Uint8Array): void {
    this.tcp.icmpError(type, code, src, dst, quoted);
  }

  // ── outbound: the guest connects ────────────────────────────────────────────────────────

  /** A SYN opening a connection: true when taken here (held, refused or dropped). */
  #syn(info: IpDatagramInfo, buf: NetBuf): boolean {
    const b = buf.store;
    const off = buf.offset;
    if (checkTcp(b, off, buf.length, info.src, info.dst, info.checksumVerified) !== 'ok') return false;
    const srcPort = tcpSrcPort(b, off);
    const dstPort = tcpDstPort(b, off);
    if (srcPort === 0 || dstPort === 0) return false;
    const key = `${info.src}:${srcPort}>${info.dst}:${dstPort}`;
    const had = this.#flows.get(key);
    if (had !== undefined) {
      if (had.state === 'connecting') return true; // a retransmission: the host has not answered yet
      if (had.state === 'open' && had.conn !== undefined && had.conn.state === TcpState.TimeWait) {
        // The guest reuses the 4-tuple: end TIME-WAIT here, and connect anew.
        this.tcp.destroy(had.conn, null);
        this.#flows.delete(key);
      } else return false;
    }
    const refuse = (): true => {
      this.stats.refused++;
      sendRefusal(this.stack, info.dst, dstPort, info.src, srcPort, tcpSeq(b, off));
      return true;
    };
    if (this.#closed) return true;
    const host = this.target(info.dst, dstPort);
    if (host === undefined) return refuse();
    if (this.#connecting >= this.limits.pendingConnects) return true; // the guest will try again
    if (this.#sockets.size >= this.limits.tcpConnections) {
      this.stats.overBudget++;
      return refuse();
    }
    const flow: Flow = { state: 'connecting', syn: copyBuf(windowOf(buf)), info: { ...info }, srcPort, port: dstPort, seq: tcpSeq(b, off), listenerKey: `${info.dst}:${dstPort}` };
    this.#flows.set(key, flow);
    this.#connecting++;
    const s = net.connect({ host, port: dstPort, allowHalfOpen: true });
    this.#sockets.add(s);
    const settle = (): boolean => {
      if (flow.state !== 'connecting') return false;
      clearTimeout(flow.timer);
      this.#connecting--;
      return true;
    };
    flow.timer = setTimeout(() => s.destroy(new Error(`connecting to ${host}:${dstPort} timed out`)), this.limits.connectTimeoutMs);
    s.once('connect', () => {
      if (!settle()) return;
      this.#connected(key, flow, s);
    });
    s.on('error', () => {
      if (!settle()) return;
      this.#flows.delete(key);
      this.stats.refused++;
      if (!this.#closed) sendRefusal(this.stack, info.dst, dstPort, info.src, srcPort, flow.seq);
    });
    s.once('close', () => {
      this.#sockets.delete(s);
      if (settle()) this.#flows.delete(key);
    });
    return true;
  }

  #connected(key: string, flow: Flow, s: net.Socket): void {
    if (this.#closed) {
      s.destroy();
      return;
    }
    s.setNoDelay(true);
    s.pause();
    flow.state = 'handshake';
    flow.socket = s;
    this.stats.outbound++;
    let entry = this.#listeners.get(flow.listenerKey);
    if (entry === undefined) {
      let l: TcpListener;
      try {
        l = this.tcp.listen({ port: flow.port, address: flow.info.dst, options: this.socketOptions, synBacklog: this.limits.pendingConnects }, { accept: (c) => this.#accept(c) });
      } catch {
        // Cannot answer for that address and port (never expected): refuse rather than hang.
        this.#flows.delete(key);
        this.stats.refused++;
        sendRefusal(this.stack, flow.info.dst, flow.port, flow.info.src, flow.srcPort, flow.seq);
        s.destroy();
        return;
      }
      entry = { l, refs: 0 };
      this.#listeners.set(flow.listenerKey, entry);
    }
    entry.refs++;
    flow.timer = setTimeout(() => {
      if (flow.state !== 'handshake') return;
      this.#flows.delete(key);
      this.#unref(flow.listenerKey);
      s.destroy();
    }, HANDSHAKE_TIMEOUT_MS);
    const syn = flow.syn as NetBuf;
    flow.syn = undefined;
    this.tcp.input(flow.info, syn);
  }

  /** The guest completed the handshake the gateway answered for the host. */
  #accept(c: TcpConnection): boolean {
    const key = `${c.remoteAddr}:${c.remotePort}>${c.localAddr}:${c.localPort}`;
    const flow = this.#flows.get(key);
    if (flow === undefined || flow.state !== 'handshake' || flow.socket === undefined || flow.socket.destroyed) return false;
    clearTimeout(flow.timer);
    flow.state = 'open';
    flow.conn = c;
    this.#unref(flow.listenerKey);
    splice(c, flow.socket, this.stats, {
      hostClosed: () => {},
      guestClosed: () => {
        if (this.#flows.get(key) === flow) this.#flows.delete(key);
      },
    });
    return true;
  }

  #unref(listenerKey: string): void {
    const e = this.#listeners.get(listenerKey);
    if (e === undefined) return;
    if (--e.refs > 0) return;
    this.#listeners.delete(listenerKey);
    e.l.close();
  }

  // ── inbound: a forwarded host port ──────────────────────────────────────────────────────

  /**
   * A host connection for `guest`:`port` (from a hostfwd listener): the gateway connects to
   * the guest from its own address, and splices once the guest accepts; a guest that refuses
   * or does not answer in time resets the host connection.
   */
  forward(s: net.Socket, guest: Ipv4Address, port: number): void {
    if (this.#closed || this.#sockets.size >= this.limits.tcpConnections) {
      this.stats.overBudget++;
      s.resetAndDestroy();
      return;
    }
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
    s.on('error', () => {});
    s.setNoDelay(true);
    let joined = false;
    let conn: TcpConnection;
    try {
      conn = this.tcp.connect(
        { address: guest, port, localAddress: this.net.gateway, options: this.socketOptions },
        {
          connected: (c) => {
            clearTimeout(timer);
            if (s.destroyed) {
              c.abort();
              return;
            }
            joined = true;
            this.stats.inbound++;
            splice(c, s, this.stats, { hostClosed: () => {} });
          },
          error: () => {
            clearTimeout(timer);
            if (!s.destroyed) s.resetAndDestroy();
          },
          closed: () => {
            clearTimeout(timer);
            if (!joined && !s.destroyed) s.resetAndDestroy();
          },
        },
      );
    } catch {
      s.resetAndDestroy();
      return;
    }
    const timer = setTimeout(() => {
      if (!joined) conn.abort();
    }, this.limits.connectTimeoutMs);
    s.once('close', () => {
      if (!joined) conn.abort();
    });
  }

  /** Ends everything: host sockets are destroyed, the guest's connections forgotten. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const f of this.#flows.values()) clearTimeout(f.timer);
    this.#flows.clear();
    for (const e of this.#listeners.values()) e.l.close();
    this.#listeners.clear();
    for (const c of this.tcp.connections) this.tcp.destroy(c, null);
    for (const s of [...this.#sockets]) s.destroy();
    this.#sockets.clear();
  }
}
