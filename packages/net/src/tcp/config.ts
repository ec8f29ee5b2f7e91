import { KernelError } from '@uk/hal';
import type { CongestionAlgorithm } from './congestion/control.js';
import { newReno } from './congestion/new-reno.js';

/** Per-connection options (every field can be set for one socket, or defaulted for all). */
export interface TcpSocketOptions {
  /** Disable Nagle's algorithm: send small segments at once (TCP_NODELAY). Default false. */
  noDelay: boolean;
  /** Delay ACKs (RFC 9293 §3.8.6.3); when false every segment is acknowledged at once. Default true. */
  delayedAck: boolean;
  /** How long an ACK may wait, ms (< 500). Default 40. */
  delayedAckMs: number;
  /** Send keep-alive probes on an idle connection. Default false. */
  keepAlive: boolean;
  /** Idle time before the first probe, ms. Default 2 h. */
  keepIdleMs: number;
  /** Between probes, ms. Default 75 s. */
  keepIntervalMs: number;
  /** Unanswered probes before the connection is dropped (ETIMEDOUT). Default 9. */
  keepCount: number;
  /** Bytes the send buffer holds (written, not yet acknowledged). Default 256 KiB. */
  sendBufferSize: number;
  /** Bytes of receive window (data delivered to the app and not yet consumed counts against it). Default 256 KiB. */
  receiveBufferSize: number;
  /** Default NewReno. */
  congestionControl: CongestionAlgorithm;
  /** Offer/accept SACK (RFC 2018). Default true. */
  sack: boolean;
  /** Offer/accept timestamps (RFC 7323). Default true. */
  timestamps: boolean;
  /** Offer/accept window scaling (RFC 7323). Default true. */
  windowScaling: boolean;
  /** Cap on the MSS we announce and use (0: from the path MTU). */
  maxSegmentSize: number;
  /** Give up on unacknowledged data after this long, ms (RFC 5482 user timeout; 0: use the retransmission count). */
  userTimeoutMs: number;
}

/** Options of the TCP module as a whole. */
export interface TcpConfig {
  /** Defaults for every connection. */
  socket: TcpSocketOptions;
  /** Initial RTO, ms (RFC 6298: 1 s). */
  initialRtoMs: number;
  /** Lower bound of the RTO, ms (RFC 6298: 1 s; Linux uses 200 ms). */
  minRtoMs: number;
  /** Upper bound of the RTO, ms (at least 60 s). */
  maxRtoMs: number;
  /** Retransmissions of a SYN before connect fails with ETIMEDOUT. */
  synRetries: number;
  /** Retransmissions of a SYN-ACK before a half-open connection is dropped. */
  synAckRetries: number;
  /** Retransmissions of data (or FIN) before the connection fails with ETIMEDOUT. */
  maxRetransmits: number;
  /** Maximum segment lifetime, ms; TIME-WAIT lasts twice this. Default 30 s. */
  mslMs: number;
  /** How long a connection closed by the app may wait in FIN-WAIT-2, ms. Default 60 s. */
  finWait2TimeoutMs: number;
  /** Connections in TIME-WAIT at most; the oldest goes first. */
  maxTimeWait: number;
  /** Half-open (SYN-RECEIVED) connections per listener at most; the oldest is dropped (SYN flood). */
  synBacklog: number;
  /** Challenge ACKs per second (RFC 5961 §7). */
  challengeAckLimit: number;
  /** Out-of-order segments held per connection at most. */
  maxOutOfOrder: number;
  /** Ephemeral port range (RFC 6335: 49152–65535). */
  ephemeralPorts: readonly [number, number];
  /** Random 32-bit numbers for ISNs, ports and timestamp offsets; supply a good source. */
  random: () => number;
}

export type TcpConfigInput = Partial<Omit<TcpConfig, 'socket'>> & { socket?: Partial<TcpSocketOptions> };

export const DEFAULT_SOCKET_OPTIONS: Readonly<TcpSocketOptions> = {
  noDelay: false,
  delayedAck: true,
  delayedAckMs: 40,
  keepAlive: false,
  keepIdleMs: 7_200_000,
  keepIntervalMs: 75_000,
  keepCount: 9,
  sendBufferSize: 256 * 1024,
  receiveBufferSize: 256 * 1024,
  congestionControl: /* @__PURE__ */ newReno(),
  sack: true,
  timestamps: true,
  windowScaling: true,
  maxSegmentSize: 0,
  userTimeoutMs: 0,
};

export function resolveConfig(input: TcpConfigInput = {}, seed: number): TcpConfig {
  const { socket, ...rest } = input;
  const cfg: TcpConfig = {
    initialRtoMs: 1000,
    minRtoMs: 1000,
    maxRtoMs: 60_000,
    synRetries: 6,
    synAckRetries: 5,
    maxRetransmits: 12,
    mslMs: 30_000,
    finWait2TimeoutMs: 60_000,
    maxTimeWait: 4096,
    synBacklog: 128,
    challengeAckLimit: 1000,
    maxOutOfOrder: 1024,
    ephemeralPorts: [49152, 65535],
    random: xorshift(seed),
    ...stripUndefined(rest),
    socket: resolveSocketOptions(DEFAULT_SOCKET_OPTIONS, socket),
  };
  const [lo, hi] = cfg.ephemeralPorts;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi && hi <= 65535)) {
    throw new KernelError('EINVAL', `ephemeralPorts must be [low, high] within 1..65535, got [${lo}, ${hi}]`);
  }
  if (!(cfg.minRtoMs > 0 && cfg.minRtoMs <= cfg.maxRtoMs)) throw new KernelError('EINVAL', 'minRtoMs must be positive and at most maxRtoMs');
  return cfg;
}

export function resolveSocketOptions(base: Readonly<TcpSocketOptions>, over: Partial<TcpSocketOptions> | undefined): TcpSocketOptions {
  const o: TcpSocketOptions = { ...base, ...stripUndefined(over ?? {}) };
  for (const k of ['sendBufferSize', 'receiveBufferSize'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1024 && o[k] <= 1 << 30)) throw new KernelError('EINVAL', `${k} must be an integer from 1024 to 2^30 bytes, got ${o[k]}`);
  }
  if (!(o.delayedAckMs > 0 && o.delayedAckMs < 500)) throw new KernelError('EINVAL', `delayedAckMs must be between 0 and 500 ms (RFC 9293), got ${o.delayedAckMs}`);
  if (!(o.keepIdleMs > 0 && o.keepIntervalMs > 0 && Number.isInteger(o.keepCount) && o.keepCount >= 1)) {
    throw new KernelError('EINVAL', 'keepIdleMs and keepIntervalMs must be positive and keepCount at least 1');
  }
  if (o.maxSegmentSize !== 0 && !(Number.isInteger(o.maxSegmentSize) && o.maxSegmentSize >= 64 && o.maxSegmentSize <= 65495)) {
    throw new KernelError('EINVAL', `maxSegmentSize must be 0 (automatic) or 64..65495, got ${o.maxSegmentSize}`);
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** A small PRNG for when the owner supplies no random source (not cryptographic). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
