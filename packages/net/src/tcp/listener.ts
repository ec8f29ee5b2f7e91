import type { Ipv4Address } from '../ip/address.js';
import type { TcpSocketOptions } from './config.js';
import type { TcpConnection } from './connection.js';
import type { TcpTransport } from './transport.js';

/** What a listener tells its user. */
export interface TcpListenerHandlers {
  /**
   * A connection completed its handshake. Set its handlers (`c.setHandlers`) here or later;
   * data that arrives meanwhile is held. Returning false refuses it (RST), e.g. when the
   * app's accept queue is full.
   */
  accept(c: TcpConnection): boolean | undefined | void;
}

/**
 * A passive open (LISTEN). Each SYN creates a connection in SYN-RECEIVED; at most
 * `synBacklog` of them wait for their handshake at a time, and under a SYN flood the oldest
 * is dropped for the newest (a bounded half-open queue with oldest-drop).
 */
export class TcpListener {
  /** Half-open connections, oldest first. */
  readonly halfOpen = new Set<TcpConnection>();
  closed = false;

  constructor(
    readonly tcp: TcpTransport,
    readonly localAddr: Ipv4Address,
    readonly localPort: number,
    readonly opts: TcpSocketOptions,
    public handlers: TcpListenerHandlers,
    readonly synBacklog: number,
  ) {}

  /** Stops listening; half-open connections are dropped, established ones are not affected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.halfOpen]) this.tcp.destroy(c, null);
    this.tcp.removeListener(this);
  }
}
