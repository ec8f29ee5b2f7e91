import { KernelError } from '@uk/hal';
import type { Ipv4Address } from '../../ip/address.js';
import { type WaitOptions, WaitQueue } from '../../socket/waiter.js';
import type { TcpConnection } from '../connection.js';
import type { TcpListener } from '../listener.js';
import { type SocketEnv, TcpSocket } from './stream.js';

/**
 * A listening socket. Connections that complete their handshake wait in an accept queue of
 * `backlog` entries; when it is full, newcomers are refused with RST.
 */
export class TcpServer {
  private queue: TcpConnection[] = [];
  private readonly acceptable = new WaitQueue<void>();
  private closed = false;

  /** @internal Made by `listen()` of the TCP module. */
  constructor(
    readonly listener: TcpListener,
    readonly backlog: number,
    private readonly env: SocketEnv,
  ) {
    listener.handlers = {
      accept: (c) => {
        if (this.closed || this.queue.length >= this.backlog) return false;
        this.queue.push(c);
        this.acceptable.wakeOne(undefined);
        return true;
      },
    };
  }

  get localAddress(): Ipv4Address {
    return this.listener.localAddr;
  }
  get localPort(): number {
    return this.listener.localPort;
  }
  /** Connections established and waiting for accept. */
  get pending(): number {
    return this.queue.length;
  }

  /** The next established connection, waiting for one as needed. */
  async accept(opts?: WaitOptions): Promise<TcpSocket> {
    for (;;) {
      if (this.closed) throw new KernelError('EBADF', 'the listening socket was closed');
      const c = this.queue.shift();
      if (c !== undefined) {
        // A connection reset while it waited is skipped.
        if (c.gone) continue;
        return new TcpSocket(c, this.env);
      }
      await this.env.waiter.wait(this.acceptable.wait(opts, this.env.timers, 'accept'));
    }
  }

  /** Stops listening; connections not yet accepted are reset. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    for (const c of this.queue) c.abort();
    this.queue = [];
    this.acceptable.failAll(new KernelError('EBADF', 'the listening socket was closed'));
  }
}
