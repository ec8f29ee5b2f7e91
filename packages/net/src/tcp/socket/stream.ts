import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import type { Ipv4Address } from '../../ip/address.js';
import { type Waiter, type WaitOptions, WaitQueue } from '../../socket/waiter.js';
import type { CoreTimer } from '../../stack/timers.js';
import type { TcpConnection } from '../connection.js';

/** What the socket layer needs from its surroundings. */
export interface SocketEnv {
  readonly waiter: Waiter;
  readonly timers: { after(ms: number, fn: () => void): CoreTimer };
}

export interface ReadOptions extends WaitOptions {
  /** At most this many bytes (default 64 KiB). */
  readonly max?: number;
}

/**
 * A connected TCP socket with promise-based calls over a raw connection. Received data stays
 * in the buffers it arrived in until read: `read` copies out of them, `readBuf` hands one
 * over. `write` copies once, into the send buffer's device buffers.
 */
export class TcpSocket {
  private rx: NetBuf[] = [];
  private rxHead = 0;
  private eof = false;
  private failed: KernelError | null = null;
  private readonly readable = new WaitQueue<void>();
  private readonly writable = new WaitQueue<void>();

  /** @internal Made by `connect()` and `TcpServer.accept()`. */
  constructor(
    readonly conn: TcpConnection,
    private readonly env: SocketEnv,
  ) {
    conn.setHandlers({
      recv: (_c, buf) => {
        this.rx.push(buf);
        this.readable.wakeAll(undefined);
      },
      end: () => {
        this.eof = true;
        this.readable.wakeAll(undefined);
      },
      sent: () => {
        this.writable.wakeAll(undefined);
      },
      error: (_c, err) => {
        this.failed = err;
      },
      closed: () => {
        this.readable.wakeAll(undefined);
        this.writable.wakeAll(undefined);
      },
    });
    // What happened before this socket existed (data is delivered by setHandlers above).
    if (conn.finReceived) this.eof = true;
    if (conn.error !== null) this.failed = conn.error;
  }

  get localAddress(): Ipv4Address {
    return this.conn.localAddr;
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get remoteAddress(): Ipv4Address {
    return this.conn.remoteAddr;
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }
  /** The RFC 9293 state name. */
  get state(): string {
    return this.conn.stateName;
  }

  /** Bytes received and not yet read. */
  get readableLength(): number {
    let n = 0;
    for (let i = this.rxHead; i < this.rx.length; i++) n += this.rx[i].length;
    return n;
  }

  /**
   * The next bytes received (a copy, at most `max`), waiting while there are none; null once
   * the peer has closed and everything was read.
   */
  async read(opts?: ReadOptions): Promise<Uint8Array | null> {
    for (;;) {
      const avail = this.readableLength;
      if (avail > 0) {
        const out = new Uint8Array(Math.min(avail, opts?.max ?? 65536));
        this.copyOut(out);
        return out;
      }
      const done = this.endOfInput();
      if (done) return null;
      await this.waitReadable(opts);
    }
  }

  /** Reads into `dst`; resolves with the byte count, 0 at end of input. */
  async readInto(dst: Uint8Array, opts?: WaitOptions): Promise<number> {
    for (;;) {
      if (this.rxHead < this.rx.length && dst.length > 0) return this.copyOut(dst);
      if (dst.length === 0 || this.endOfInput()) return 0;
      await this.waitReadable(opts);
    }
  }

  /**
   * Zero-copy read: the next received buffer itself (its window is the data), or null at end
   * of input. The caller owns it and must release() it.
   */
  async readBuf(opts?: WaitOptions): Promise<NetBuf | null> {
    for (;;) {
      if (this.rxHead < this.rx.length) {
        const b = this.rx[this.rxHead];
        this.shift();
        this.conn.recved(b.length);
        return b;
      }
      if (this.endOfInput()) return null;
      await this.waitReadable(opts);
    }
  }

  /** Queues all of `data` (copied), waiting for send buffer space as needed. */
  async write(data: Uint8Array, opts?: WaitOptions): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const err = this.failed ?? this.conn.error;
      if (err !== null) throw err;
      if (this.conn.gone) throw new KernelError('EPIPE', 'the connection is closed');
      const n = this.conn.write(done === 0 ? data : data.subarray(done));
      done += n;
      if (done >= data.length) break;
      if (n === 0 && this.conn.sendQueue.bytes === 0) {
        // Nothing queued and nothing taken: the device is out of buffers. Try again shortly.
        await this.env.waiter.wait(new Promise<void>((resolve) => this.env.timers.after(5, resolve)));
      } else await this.env.waiter.wait(this.writable.wait(opts, this.env.timers, 'write'));
    }
  }

  /** Resolves once everything written has been acknowledged by the peer. */
  async drain(opts?: WaitOptions): Promise<void> {
    while (this.conn.sendQueue.bytes > 0 && !this.conn.gone) {
      await this.env.waiter.wait(this.writable.wait(opts, this.env.timers, 'drain'));
    }
    if (this.failed !== null) throw this.failed;
  }

  /** No more writes: FIN after the queued data; reads go on until the peer closes. */
  async shutdown(): Promise<void> {
    if (this.failed !== null) throw this.failed;
    if (this.conn.gone) throw new KernelError('ENOTCONN', 'the connection is closed');
    this.conn.shutdown();
  }

  /**
   * Closes the socket: the stack sends what is queued, then FIN, in the background. Data
   * received and not read is discarded (and the peer reset, as POSIX close does).
   */
  async close(): Promise<void> {
    this.discardInput();
    this.conn.close();
    this.readable.failAll(new KernelError('EBADF', 'the socket was closed'));
    this.writable.failAll(new KernelError('EBADF', 'the socket was closed'));
  }

  /** Resets the connection at once. */
  abort(): void {
    this.discardInput();
    this.conn.abort();
  }

  setNoDelay(on = true): void {
    this.conn.setNoDelay(on);
  }

  setKeepAlive(on: boolean, opts?: { idleMs?: number; intervalMs?: number; count?: number }): void {
    this.conn.setKeepAlive(on, opts);
  }

  private endOfInput(): boolean {
    if (this.eof) return true;
    const err = this.failed ?? this.conn.error;
    if (err !== null) throw err;
    if (this.conn.gone) return true;
    return false;
  }

  private waitReadable(opts?: WaitOptions): Promise<void> {
    return this.env.waiter.wait(this.readable.wait(opts, this.env.timers, 'read'));
  }

  private copyOut(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.rxHead < this.rx.length) {
      const b = this.rx[this.rxHead];
      const take = Math.min(b.length, dst.length - n);
      dst.set(b.store.subarray(b.offset, b.offset + take), n);
      n += take;
      if (take === b.length) {
        this.shift();
        b.release();
      } else {
        b.offset += take;
        b.length -= take;
      }
    }
    this.conn.recved(n);
    return n;
  }

  private shift(): void {
    this.rxHead++;
    if (this.rxHead === this.rx.length) {
      this.rx.length = 0;
      this.rxHead = 0;
    } else if (this.rxHead > 1024 && this.rxHead * 2 > this.rx.length) {
      this.rx = this.rx.slice(this.rxHead);
      this.rxHead = 0;
    }
  }

  private discardInput(): void {
    const n = this.readableLength;
    for (let i = this.rxHead; i < this.rx.length; i++) this.rx[i].release();
    this.rx = [];
    this.rxHead = 0;
    // Unread data at close means a reset (RFC 2525); consumed data does not.
    if (n === 0) return;
    this.conn.abort();
  }
}
