import type { NetBuf } from '@uk/netdev';
import type { IpDatagramInfo, IpLayer, IpOutputResult } from '../../src/stack/transport.js';
import { TcpTransport } from '../../src/tcp/transport.js';
import type { TcpConfigInput } from '../../src/tcp/config.js';
import {
  emitMssOption,
  emitSackOption,
  emitSackPermittedOption,
  emitTcpHeader,
  emitTimestampsOption,
  emitWindowScaleOption,
  finishTcpChecksum,
  parseTcpOptions,
  tcpAck,
  tcpChecksumOf,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLength,
  TcpOptions,
  tcpSeq,
  tcpSrcPort,
  tcpWindow,
} from '../../src/wire/tcp.js';

export const A = 0x0a000001; // 10.0.0.1
export const B = 0x0a000002; // 10.0.0.2

/** A pooled buffer that catches double releases and counts what is outstanding. */
class PoolBuf implements NetBuf {
  offset = 0;
  length = 0;
  next: NetBuf | null = null;
  readonly phys = -1;
  out = false;
  constructor(
    readonly store: Uint8Array,
    private readonly pool: BufferPool,
  ) {}
  release(): void {
    if (!this.out) throw new Error('double release of a buffer');
    this.out = false;
    this.next = null;
    this.pool.put(this);
  }
}

/** Heap buffers by size class, reused: what a device's buffer pool does. */
export class BufferPool {
  outstanding = 0;
  allocated = 0;
  private readonly free = new Map<number, PoolBuf[]>();
  /** When set, allocation fails (back-pressure tests). */
  exhausted = false;

  get(length: number, headroom: number): NetBuf | null {
    if (this.exhausted) return null;
    const need = length + headroom;
    const size = need <= 256 ? 256 : need <= 2048 ? 2048 : need;
    const list = this.free.get(size);
    let b = list?.pop();
    if (b === undefined) {
      b = new PoolBuf(new Uint8Array(size), this);
      this.allocated++;
    }
    b.out = true;
    b.offset = headroom;
    b.length = length;
    this.outstanding++;
    return b;
  }

  put(b: PoolBuf): void {
    this.outstanding--;
    const size = b.store.length;
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    if (size <= 2048) list.push(b);
  }
}

/** A segment as the tests read it. */
export interface Seg {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  wnd: number;
  data: Uint8Array;
  opts: { mss: number; ws: number; sackOk: boolean; ts?: [number, number]; sack: [number, number][] };
  checksumOk: boolean;
}

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export function flagNames(f: number): string {
  const n: string[] = [];
  if (f & F.SYN) n.push('SYN');
  if (f & F.FIN) n.push('FIN');
  if (f & F.RST) n.push('RST');
  if (f & F.PSH) n.push('PSH');
  if (f & F.ACK) n.push('ACK');
  return n.join('|');
}

/** Parses a TCP segment (the window of `buf`). */
export function parseSeg(buf: NetBuf, src: number, dst: number, offloaded: boolean): Seg {
  const b = buf.store;
  const off = buf.offset;
  const hl = tcpHeaderLength(b, off);
  const o = new TcpOptions();
  parseTcpOptions(b, off, hl, o);
  const sack: [number, number][] = [];
  for (let i = 0; i < o.sackCount; i++) sack.push([o.sack[2 * i], o.sack[2 * i + 1]]);
  return {
    src,
    dst,
    srcPort: tcpSrcPort(b, off),
    dstPort: tcpDstPort(b, off),
    seq: tcpSeq(b, off),
    ack: tcpAck(b, off),
    flags: tcpFlags(b, off),
    wnd: tcpWindow(b, off),
    data: b.slice(off + hl, off + buf.length),
    opts: { mss: o.mss, ws: o.windowScale, sackOk: o.sackPermitted, ts: o.hasTimestamps ? [o.tsVal, o.tsEcr] : undefined, sack },
    checksumOk: offloaded || tcpChecksumOf(buf, src, dst, buf.length) === 0,
  };
}

export interface SegSpec {
  srcPort?: number;
  dstPort?: number;
  seq: number;
  ack?: number;
  flags: number;
  wnd?: number;
  data?: Uint8Array | number;
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: [number, number];
  sack?: [number, number][];
  /** Header bytes to corrupt after the checksum (for negative tests). */
  badChecksum?: boolean;
}

/** Builds a segment's bytes from a spec, with a correct checksum. */
export function buildSeg(spec: SegSpec, src: number, dst: number): Uint8Array {
  let data: Uint8Array;
  if (typeof spec.data === 'number') {
    data = new Uint8Array(spec.data);
    for (let i = 0; i < data.length; i++) data[i] = i & 255;
  } else data = spec.data ?? new Uint8Array(0);
  const opt = new Uint8Array(40);
  let p = 0;
  if (spec.mss !== undefined) p = emitMssOption(opt, p, spec.mss);
  if (spec.ws !== undefined) p = emitWindowScaleOption(opt, p, spec.ws);
  if (spec.sackOk) p = emitSackPermittedOption(opt, p);
  if (spec.ts !== undefined) p = emitTimestampsOption(opt, p, spec.ts[0] >>> 0, spec.ts[1] >>> 0);
  if (spec.sack !== undefined && spec.sack.length > 0) p = emitSackOption(opt, p, spec.sack.flat(), spec.sack.length);
  const hl = 20 + p;
  const b = new Uint8Array(hl + data.length);
  emitTcpHeader(b, 0, spec.srcPort ?? 5000, spec.dstPort ?? 80, spec.seq >>> 0, (spec.ack ?? 0) >>> 0, hl, spec.flags, spec.wnd ?? 65535);
  b.set(opt.subarray(0, p), 20);
  b.set(data, hl);
  finishTcpChecksum(b, 0, b.length, src, dst, false);
  if (spec.badChecksum) b[17] ^= 0x55;
  return b;
}

/** An IpLayer for tests: pooled buffers, and every output handed to `sink`. */
export class FakeIp implements IpLayer {
  readonly pool = new BufferPool();
  sink: (buf: NetBuf, src: number, dst: number) => void = (b) => b.release();
  outputs = 0;

  constructor(
    readonly local: number,
    /** IP MTU (transport payload + 20). */
    public mtu = 1500,
    public offload = false,
  ) {}

  allocBuf(_dst: number, length: number): NetBuf | null {
    return this.pool.get(length, 64);
  }
  output(buf: NetBuf, src: number, dst: number, protocol: number): IpOutputResult {
    if (protocol !== 6) throw new Error('not TCP');
    this.outputs++;
    this.sink(buf, src, dst);
    return 'sent';
  }
  sourceFor(): number {
    return this.local;
  }
  mtuFor(): number {
    return this.mtu - 20;
  }
  txChecksumOffload(): boolean {
    return this.offload;
  }
  isLocal(a: number): boolean {
    return a === this.local;
  }
  sendUnreachable(_info: IpDatagramInfo, original: NetBuf): void {
    original.release();
  }
}

/**
 * One TCP transport under test, driven packet by packet: `inject` a segment at the current
 * time, `advance` the clock (running timers as they fall due), `take` what it sent.
 */
export class Harness {
  now = 0;
  readonly ip: FakeIp;
  readonly tcp: TcpTransport;
  private sent: Seg[] = [];
  /** Where the peer (the test) is. */
  readonly peer: number;

  constructor(opts: { config?: TcpConfigInput; mtu?: number; local?: number; peer?: number; coalesce?: boolean } = {}) {
    this.ip = new FakeIp(opts.local ?? A, opts.mtu ?? 1500);
    this.peer = opts.peer ?? B;
    this.ip.sink = (buf, src, dst) => {
      this.sent.push(parseSeg(buf, src, dst, false));
      buf.release();
    };
    this.tcp = new TcpTransport(this.ip, () => this.now, { random: seeded(42), ...opts.config }, opts.coalesce ? { wake: () => {} } : {});
  }

  /** Delivers a segment from the peer, then polls (as a stack does after a batch). */
  inject(spec: SegSpec): void {
    this.injectOnly(spec);
    this.tcp.poll(this.now);
  }

  /** Delivers a segment without the poll that ends a batch. */
  injectOnly(spec: SegSpec): void {
    const bytes = buildSeg(spec, this.peer, this.ip.local);
    const buf = this.ip.pool.get(bytes.length, 64) as NetBuf;
    buf.store.set(bytes, buf.offset);
    this.tcp.input({ src: this.peer, dst: this.ip.local, ttl: 64, checksumVerified: false, ifindex: 0 }, buf);
  }

  /** Moves the clock by `ms`, polling at every deadline on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = this.tcp.poll(this.now);
      if (next > end) break;
      this.now = Math.max(this.now, next);
    }
    this.now = end;
    this.tcp.poll(this.now);
  }

  /** Segments sent since the last take. */
  take(): Seg[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }

  /** Exactly one segment was sent; returns it. */
  one(): Seg {
    const s = this.take();
    if (s.length !== 1) throw new Error(`expected one segment, got ${s.length}: ${s.map(describe).join(' ; ')}`);
    return s[0];
  }
}

export function describe(s: Seg): string {
  return `${flagNames(s.flags)} seq=${s.seq} ack=${s.ack} wnd=${s.wnd} len=${s.data.length}`;
}

/** A seeded uint32 generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Options for the peer's side of a handshake. */
export interface PeerSyn {
  irs?: number;
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: number;
  wnd?: number;
}

/** connect() and complete the handshake as the peer (port 80 at B); returns the connection and both ISNs. */
export function activeOpen(h: Harness, peer: PeerSyn = {}, handlers: import('../../src/tcp/connection.js').TcpHandlers = {}) {
  const c = h.tcp.connect({ address: h.peer, port: 80 }, handlers);
  const syn = h.one();
  const irs = peer.irs ?? 1_000_000;
  h.inject({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: irs,
    ack: syn.seq + 1,
    flags: F.SYN | F.ACK,
    mss: peer.mss ?? 1460,
    ws: peer.ws,
    sackOk: peer.sackOk,
    ts: peer.ts !== undefined && syn.opts.ts !== undefined ? [peer.ts, syn.opts.ts[0]] : undefined,
    wnd: peer.wnd ?? 65535,
  });
  const ack = h.one();
  return { c, syn, ack, iss: syn.seq, irs, port: syn.srcPort };
}

/** listen() on port 80 and complete a handshake as a peer at B:5000; returns the accepted connection. */
export function passiveOpen(h: Harness, peer: PeerSyn = {}, handlers: import('../../src/tcp/connection.js').TcpHandlers = {}) {
  let accepted: import('../../src/tcp/connection.js').TcpConnection | null = null;
  const l = h.tcp.listen({ port: 80 }, { accept: (c) => { accepted = c; c.setHandlers(handlers); } });
  const irs = peer.irs ?? 2_000_000;
  h.inject({ srcPort: 5000, dstPort: 80, seq: irs, flags: F.SYN, mss: peer.mss ?? 1460, ws: peer.ws, sackOk: peer.sackOk, ts: peer.ts !== undefined ? [peer.ts, 0] : undefined, wnd: peer.wnd ?? 65535 });
  const synAck = h.one();
  h.inject({ srcPort: 5000, dstPort: 80, seq: irs + 1, ack: synAck.seq + 1, flags: F.ACK, ts: peer.ts !== undefined && synAck.opts.ts ? [peer.ts + 1, synAck.opts.ts[0]] : undefined, wnd: peer.wnd ?? 65535 });
  if (accepted === null) throw new Error('not accepted');
  return { c: accepted as import('../../src/tcp/connection.js').TcpConnection, l, synAck, iss: synAck.seq, irs };
}

/** A harness with the options off that make segments longer to read (timestamps, SACK, window scaling). */
export function plainHarness(extra: { config?: TcpConfigInput; mtu?: number; coalesce?: boolean } = {}): Harness {
  return new Harness({
    ...extra,
    config: { ...extra.config, socket: { timestamps: false, sack: false, windowScaling: false, ...extra.config?.socket } },
  });
}
