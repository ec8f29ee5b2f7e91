import type { NetBuf } from '@uk/netdev';
import type { Ipv4Address } from '../ip/address.js';

/**
 * The seam between the IP layer and the transports above it (TCP, UDP, ICMP). IP owns
 * interfaces, routing, ARP and fragments; a transport owns its protocol's state. Neither
 * reaches into the other.
 *
 * Time in the core is milliseconds (a JS number, fractions allowed) from a clock the stack's
 * owner supplies; nothing in the core reads a clock of its own or starts a timer.
 */

/** What IP hands a transport with each datagram addressed to this host. */
export interface IpDatagramInfo {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly ttl: number;
  /** The device already verified the transport checksum (NetDevice.offloads.rxChecksumVerified). */
  readonly checksumVerified: boolean;
  /** The interface it arrived on (index into the stack's interfaces). */
  readonly ifindex: number;
}

/** What a transport may ask of IP. */
export interface IpLayer {
  /**
   * A buffer for a transport payload of `length` bytes, with headroom for the IP header, the
   * link header and the device's own; from the device's memory when the route is known, so
   * that the payload is written once, where the device reads it. null when none is free.
   */
  allocBuf(dst: Ipv4Address, length: number): NetBuf | null;
  /**
   * Sends a transport payload (the buffer's window) to `dst`. Takes ownership of `buf`.
   * Resolves ARP, fragments when needed, and reports what became of it.
   */
  output(buf: NetBuf, src: Ipv4Address, dst: Ipv4Address, protocol: number, opts?: { ttl?: number; tos?: number; dontFragment?: boolean }): IpOutputResult;
  /** The source address IP would use to reach `dst`, or undefined when there is no route. */
  sourceFor(dst: Ipv4Address): Ipv4Address | undefined;
  /** The largest transport payload that reaches `dst` without fragmenting (path MTU - IP header). */
  mtuFor(dst: Ipv4Address): number;
  /** Whether the device on the route to `dst` fills in transport checksums itself. */
  txChecksumOffload(dst: Ipv4Address): boolean;
  /** Is `a` one of this host's addresses (or a broadcast/multicast it listens to)? */
  isLocal(a: Ipv4Address): boolean;
  /** ICMP errors to tell the sender of a datagram that nobody wanted it. */
  sendUnreachable(info: IpDatagramInfo, original: NetBuf, code: number): void;
}

export type IpOutputResult = 'sent' | 'queued-for-arp' | 'no-route' | 'no-buffer' | 'too-big';

/** What IP calls on a transport. */
export interface Transport {
  readonly protocol: number;
  /** A datagram for this transport; `buf`'s window is the transport header and payload. The transport owns `buf`. */
  input(info: IpDatagramInfo, buf: NetBuf): void;
  /** Runs timers due at `now`; returns the next time it needs to run (Infinity: none). */
  poll(now: number): number;
  /** An ICMP error came back for a datagram this transport sent (destination unreachable, ...). */
  icmpError?(type: number, code: number, src: Ipv4Address, dst: Ipv4Address, quotedTransportHeader: Uint8Array): void;
}

export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17 } as const;
