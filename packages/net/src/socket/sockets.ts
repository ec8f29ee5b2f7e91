import type { Ipv4Address } from '../ip/address.js';
import type { PingOptions } from '../icmp/icmp.js';
import type { NetStack } from '../stack/stack.js';
import { UdpSocket, type UdpSocketOptions } from './udp-socket.js';
import type { Waiter } from './waiter.js';

/**
 * The socket API over one stack: every call that waits blocks through the Waiter (the
 * scheduler's waitFor when composed, a plain promise otherwise).
 */
export class Sockets {
  constructor(
    readonly stack: NetStack,
    readonly waiter: Waiter,
  ) {}

  udp(opts?: UdpSocketOptions): UdpSocket {
    return new UdpSocket(this.stack, this.waiter, opts);
  }

  /** A DNS lookup (A records). */
  resolve(name: string): Promise<Ipv4Address[]> {
    return this.waiter.wait(this.stack.resolve(name));
  }

  /** Round trip to `dst` in ms. */
  ping(dst: Ipv4Address | string, opts?: PingOptions): Promise<number> {
    return this.waiter.wait(this.stack.ping(dst, opts));
  }
}
