import { KernelError } from '@uk/hal';
import { type Ipv4Address, parseIpv4 } from '../ip/address.js';
import { Waiter, type WaitOptions } from '../socket/waiter.js';
import type { IpLayer, Transport } from '../stack/transport.js';
import type { TcpConfigInput, TcpSocketOptions } from './config.js';
import { TcpServer } from './socket/server.js';
import { type SocketEnv, TcpSocket } from './socket/stream.js';
import { TcpTransport } from './transport.js';

/** What the stack hands to `attach` (see the contract in index.ts). */
export interface TcpAttachTarget {
  readonly ip: IpLayer;
  registerTransport(t: Transport): void;
  now(): number;
  /** Poll me no later than `deadline` (see index.ts). */
  wake?(deadline: number): void;
  /** Used for `wake` when there is none: a timer at the deadline makes the stack poll then (NetStack has it). */
  readonly timers?: { at(time: number, fn: () => void): { cancel(): void } };
  readonly waiter?: Waiter;
}

export interface TcpConnectOptions extends WaitOptions {
  /** Dotted quad or a number. */
  readonly address: string | Ipv4Address;
  readonly port: number;
  readonly localAddress?: string | Ipv4Address;
  readonly localPort?: number;
  /** Socket options for this connection (noDelay, keepAlive, buffer sizes, congestionControl...). */
  readonly options?: Partial<TcpSocketOptions>;
}

export interface TcpListenOptions {
  readonly port: number;
  readonly address?: string | Ipv4Address;
  /** Established connections waiting for accept at most (default 128). */
  readonly backlog?: number;
  /** Half-open connections at most (SYN flood bound). */
  readonly synBacklog?: number;
  readonly options?: Partial<TcpSocketOptions>;
}

/** The TCP component: pass it to `tcpip({ tcp })`, then use its sockets. */
export interface TcpModule {
  readonly name: 'tcp';
  /**
   * Called by the stack once; registers the transport for protocol 6 and returns this module
   * (what `net.extension('tcp')` gives). `sockets.waiter`, when given, makes socket calls block
   * through the scheduler.
   */
  attach(stack: TcpAttachTarget, sockets?: { readonly waiter?: Waiter }): TcpModule;
  /** The transport and its raw, lwIP-style API (connections with callbacks). */
  readonly raw: TcpTransport;
  /** A listening socket (EADDRINUSE when the port is taken). */
  listen(opts: number | TcpListenOptions): Promise<TcpServer>;
  /** Opens a connection; rejects with ECONNREFUSED, ETIMEDOUT, ENETUNREACH... */
  connect(opts: TcpConnectOptions): Promise<TcpSocket>;
}

function address(a: string | Ipv4Address, what: string): Ipv4Address {
  if (typeof a === 'number') return a >>> 0;
  const v = parseIpv4(a);
  if (v === undefined) throw new KernelError('EINVAL', `${what} "${a}" is not an IPv4 address (like 10.0.2.15)`);
  return v;
}

/**
 * TCP, opt-in: `tcpip({ tcp: tcp({ socket: { noDelay: true } }) })`. An app that does not
 * call this carries no TCP code.
 */
export function tcp(config: TcpConfigInput = {}): TcpModule {
  let transport: TcpTransport | null = null;
  let env: SocketEnv | null = null;
  const attached = (): { t: TcpTransport; env: SocketEnv } => {
    if (transport === null || env === null) throw new KernelError('ENODEV', 'TCP is not attached to a stack yet: pass tcp() to tcpip({ tcp }) and use it after the network is up');
    return { t: transport, env };
  };
  const mod: TcpModule = {
    name: 'tcp',
    attach(stack: TcpAttachTarget, sockets?: { readonly waiter?: Waiter }): TcpModule {
      if (transport !== null) throw new KernelError('EBUSY', 'this tcp() is already attached to a stack; create one per stack');
      const t = new TcpTransport(stack.ip, () => stack.now(), config, { wake: wakeOf(stack) });
      transport = t;
      env = { waiter: sockets?.waiter ?? stack.waiter ?? new Waiter(), timers: t };
      stack.registerTransport(t);
      return mod;
    },
    get raw(): TcpTransport {
      return attached().t;
    },
    async listen(opts: number | TcpListenOptions): Promise<TcpServer> {
      const { t, env: e } = attached();
      const o: TcpListenOptions = typeof opts === 'number' ? { port: opts } : opts;
      const backlog = o.backlog ?? 128;
      if (!(Number.isInteger(backlog) && backlog >= 1)) throw new KernelError('EINVAL', `backlog must be a positive integer, got ${backlog}`);
      const l = t.listen(
        { port: o.port, address: o.address === undefined ? undefined : address(o.address, 'listen address'), synBacklog: o.synBacklog, options: o.options },
        { accept: () => false },
      );
      return new TcpServer(l, backlog, e);
    },
    async connect(opts: TcpConnectOptions): Promise<TcpSocket> {
      const { t, env: e } = attached();
      let settle: { ok: () => void; fail: (err: KernelError) => void } | null = null;
      const done = new Promise<void>((ok, fail) => {
        settle = { ok, fail };
      });
      const c = t.connect(
        {
          address: address(opts.address, 'address'),
          port: opts.port,
          localAddress: opts.localAddress === undefined ? undefined : address(opts.localAddress, 'local address'),
          localPort: opts.localPort,
          options: opts.options,
        },
        {
          connected: () => settle?.ok(),
          error: (_c, err) => settle?.fail(err),
          closed: () => settle?.fail(new KernelError('ECONNABORTED', 'the connection was closed while connecting')),
        },
      );
      let timer: { cancel(): void } | undefined;
      let onAbort: (() => void) | undefined;
      const guarded = new Promise<void>((ok, fail) => {
        done.then(ok, fail);
        if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) {
          timer = t.after(Math.max(0, opts.timeoutMs), () => {
            c.abort();
            fail(new KernelError('ETIMEDOUT', `connect timed out after ${opts.timeoutMs} ms`));
          });
        }
        if (opts.signal !== undefined) {
          onAbort = () => {
            c.abort();
            fail(opts.signal?.reason instanceof KernelError ? opts.signal.reason : new KernelError('ECANCELED', 'connect was cancelled'));
          };
          if (opts.signal.aborted) onAbort();
          else opts.signal.addEventListener('abort', onAbort);
        }
      });
      try {
        await e.waiter.wait(guarded);
      } finally {
        timer?.cancel();
        if (onAbort !== undefined) opts.signal?.removeEventListener?.('abort', onAbort);
      }
      return new TcpSocket(c, e);
    },
  };
  return mod;
}

/** The stack's wake, or one made of a core timer: one outstanding at a time, the earliest wins. */
function wakeOf(stack: TcpAttachTarget): ((deadline: number) => void) | undefined {
  if (typeof stack.wake === 'function') return stack.wake.bind(stack);
  const timers = stack.timers;
  if (timers === undefined) return undefined;
  let pending: { cancel(): void } | null = null;
  let at = Number.POSITIVE_INFINITY;
  return (deadline: number) => {
    if (pending !== null && at <= deadline) return;
    pending?.cancel();
    at = deadline;
    pending = timers.at(deadline, () => {
      pending = null;
      at = Number.POSITIVE_INFINITY;
    });
  };
}
