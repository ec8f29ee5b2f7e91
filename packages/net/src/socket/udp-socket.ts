import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import { formatIpv4, IPV4_ANY, type Ipv4Address } from '../ip/address.js';
import type { NetStack } from '../stack/stack.js';
import { toAddress } from '../stack/stack.js';
import type { IpOutputResult } from '../stack/transport.js';
import type { UdpDatagram, UdpPcb } from '../udp/udp.js';
import { type Waiter, type WaitOptions, WaitQueue } from './waiter.js';

export interface UdpSocketOptions {
  /** Datagrams queued for recvFrom at most (default 64); more are dropped, counted in `drops`. */
  readonly maxQueued?: number;
  /** Bytes queued at most (default 256 KiB). */
  readonly maxQueuedBytes?: number;
}

/** A datagram as recvFrom returns it: a copy, owned by the caller. */
export interface UdpMessage {
  readonly data: Uint8Array;
  readonly address: Ipv4Address;
  readonly port: number;
  /** The address it was sent to (this host's, or a broadcast). */
  readonly to: Ipv4Address;
}

/** A datagram with its buffer, zero-copy: the caller must release `buf`. */
export interface UdpBufMessage {
  readonly buf: NetBuf;
  readonly address: Ipv4Address;
  readonly port: number;
  readonly to: Ipv4Address;
}

/**
 * A UDP socket: bind, sendTo, recvFrom, close — POSIX's semantics with promises. recvFrom
 * blocks (through the scheduler when one is composed) until a datagram, the timeout or the
 * signal; errors are KernelErrors with POSIX codes (EADDRINUSE, EBADF, EMSGSIZE,
 * ENETUNREACH, EAGAIN, ETIMEDOUT...).
 */
export class UdpSocket {
  #pcb: UdpPcb | undefined;
  #closed = false;
  #queue: UdpDatagram[] = [];
  #queuedBytes = 0;
  readonly #readers = new WaitQueue<UdpDatagram>();
  readonly #maxQueued: number;
  readonly #maxBytes: number;
  /** Datagrams dropped because the receive queue was full. */
  drops = 0;

  constructor(
    private readonly stack: NetStack,
    private readonly waiter: Waiter,
    opts: UdpSocketOptions = {},
  ) {
    this.#maxQueued = opts.maxQueued ?? 64;
    this.#maxBytes = opts.maxQueuedBytes ?? 256 * 1024;
  }

  /** Binds to `port` (0: an ephemeral one) on `address` (default all). EINVAL if already bound. */
  bind(port = 0, address: string | Ipv4Address = IPV4_ANY): this {
    this.#check();
    if (this.#pcb !== undefined) throw new KernelError('EINVAL', `the socket is already bound to port ${this.#pcb.localPort}`);
    this.#pcb = this.stack.udp.bind(toAddress(address, 'bind address'), port, (d) => this.#receive(d));
    return this;
  }

  get localPort(): number {
    return this.#pcb?.localPort ?? 0;
  }

  get localAddress(): Ipv4Address {
    return this.#pcb?.localAddress ?? IPV4_ANY;
  }

  /**
   * Sends `data` to `address`:`port`, binding an ephemeral port first if needed. Returns the
   * bytes sent. A datagram waiting for ARP counts as sent (UDP promises no delivery).
   */
  sendTo(data: Uint8Array, address: string | Ipv4Address, port: number): number {
    this.#check();
    if (this.#pcb === undefined) this.bind();
    const dst = toAddress(address, 'destination');
    const r: IpOutputResult = (this.#pcb as UdpPcb).sendTo(data, dst, port);
    switch (r) {
      case 'sent':
      case 'queued-for-arp':
        return data.length;
      case 'no-route':
        throw new KernelError('ENETUNREACH', `no route to ${formatIpv4(dst)}: configure an address and a gateway`);
      case 'no-buffer':
        throw new KernelError('EAGAIN', 'no transmit buffer free right now; try again');
      case 'too-big':
        throw new KernelError('EMSGSIZE', `${data.length} bytes do not fit in one datagram`);
    }
  }

  /** The next datagram, copied out of the receive buffer. */
  async recvFrom(opts?: WaitOptions): Promise<UdpMessage> {
    const d = await this.#next(opts);
    const data = d.buf.store.slice(d.buf.offset, d.buf.offset + d.buf.length);
    d.buf.release();
    return { data, address: d.src, port: d.srcPort, to: d.dst };
  }

  /** The next datagram without a copy: `buf`'s window is the data, in the device's memory. Release it. */
  async recvBuf(opts?: WaitOptions): Promise<UdpBufMessage> {
    const d = await this.#next(opts);
    return { buf: d.buf, address: d.src, port: d.srcPort, to: d.dst };
  }

  /** A datagram if one is queued, without waiting (EAGAIN otherwise). */
  tryRecvFrom(): UdpMessage {
    this.#check();
    const d = this.#take();
    if (d === undefined) throw new KernelError('EAGAIN', 'no datagram is queued');
    const data = d.buf.store.slice(d.buf.offset, d.buf.offset + d.buf.length);
    d.buf.release();
    return { data, address: d.src, port: d.srcPort, to: d.dst };
  }

  /** Datagrams waiting. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Unbinds, drops what is queued, and fails pending receives with EBADF. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pcb?.close();
    for (const d of this.#queue) d.buf.release();
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#readers.failAll(new KernelError('EBADF', 'the socket was closed'));
  }

  #check(): void {
    if (this.#closed) throw new KernelError('EBADF', 'the socket is closed');
  }

  #next(opts?: WaitOptions): Promise<UdpDatagram> {
    if (this.#closed) return Promise.reject(new KernelError('EBADF', 'the socket is closed'));
    if (this.#pcb === undefined) return Promise.reject(new KernelError('EINVAL', 'bind the socket (or send from it) before receiving'));
    const d = this.#take();
    if (d !== undefined) return Promise.resolve(d);
    return this.waiter.wait(this.#readers.wait(opts, this.stack.timers, 'recvFrom'));
  }

  #take(): UdpDatagram | undefined {
    const d = this.#queue.shift();
    if (d !== undefined) this.#queuedBytes -= d.buf.length;
    return d;
  }

  #receive(d: UdpDatagram): void {
    if (this.#readers.wakeOne(d)) return;
    if (this.#queue.length >= this.#maxQueued || this.#queuedBytes + d.buf.length > this.#maxBytes) {
      this.drops++;
      d.buf.release();
      return;
    }
    this.#queue.push(d);
    this.#queuedBytes += d.buf.length;
  }
}
