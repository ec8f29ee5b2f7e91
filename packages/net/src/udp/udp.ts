import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import { formatIpv4, IPV4_ANY, IPV4_BROADCAST, type Ipv4Address } from '../ip/address.js';
import type { Ipv4Layer } from '../ip/layer.js';
import { type IpDatagramInfo, type IpOutputResult, IpProtocol, type Transport } from '../stack/transport.js';
import { UnreachableCode } from '../wire/icmp.js';
import { checkUdp, emitUdp, UDP_HEADER_LEN, udpDstPort, udpLength, udpSrcPort } from '../wire/udp.js';

/** A received datagram. The handler owns `buf` (window = the data, no copy) and must release it. */
export interface UdpDatagram {
  readonly buf: NetBuf;
  readonly src: Ipv4Address;
  readonly srcPort: number;
  readonly dst: Ipv4Address;
  readonly dstPort: number;
  readonly ifindex: number;
}

export type UdpHandler = (d: UdpDatagram) => void;

export interface UdpBindOptions {
  /** Receive only what arrives on this interface, and send broadcasts there (DHCP). */
  readonly ifindex?: number;
  /** Called for ICMP errors about datagrams this endpoint sent (port unreachable...). */
  readonly onError?: (type: number, code: number, dst: Ipv4Address, dstPort: number) => void;
}

/** The largest UDP payload in one IPv4 datagram. */
export const UDP_MAX_PAYLOAD = 65_535 - 20 - UDP_HEADER_LEN;
const EPHEMERAL_FIRST = 49_152;
const EPHEMERAL_COUNT = 65_536 - EPHEMERAL_FIRST;

/**
 * A UDP endpoint of the raw API (lwIP's udp_pcb): received datagrams go to a callback with
 * their buffer, zero-copy; sendTo copies the data once into a device buffer.
 */
export class UdpPcb {
  #open = true;

  constructor(
    private readonly layer: UdpLayer,
    readonly localAddress: Ipv4Address,
    readonly localPort: number,
    readonly handler: UdpHandler,
    readonly opts: UdpBindOptions,
  ) {}

  get open(): boolean {
    return this.#open;
  }

  /**
   * Sends `data` (copied once, into the buffer the device reads) to `dst`:`dstPort`. Throws
   * EBADF when closed, EMSGSIZE when too long, EINVAL for port 0; returns what IP did with it.
   */
  sendTo(data: Uint8Array, dst: Ipv4Address, dstPort: number): IpOutputResult {
    if (!this.#open) throw new KernelError('EBADF', `UDP port ${this.localPort} is closed`);
    return this.layer.send(this, data, dst, dstPort);
  }

  /**
   * Sends a buffer the caller filled: its window is the data, with at least 8 + 34 bytes of
   * headroom (from UdpLayer.allocBuf). Takes ownership.
   */
  sendBuf(buf: NetBuf, dst: Ipv4Address, dstPort: number): IpOutputResult {
    if (!this.#open) {
      buf.release();
      throw new KernelError('EBADF', `UDP port ${this.localPort} is closed`);
    }
    return this.layer.sendBuf(this, buf, dst, dstPort);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.layer.unbind(this);
  }
}

/** UDP (RFC 768) as a transport of the stack: demultiplexing to endpoints by port. */
export class UdpLayer implements Transport {
  readonly protocol = IpProtocol.UDP;
  readonly #ip: Ipv4Layer;
  readonly #ports = new Map<number, UdpPcb[]>();
  #nextEphemeral: number;
  readonly stats = { rxDatagrams: 0, rxDropped: 0, rxNoPort: 0, txDatagrams: 0, txDropped: 0 };

  constructor(ip: Ipv4Layer, random: () => number) {
    this.#ip = ip;
    this.#nextEphemeral = Math.floor(random() * EPHEMERAL_COUNT);
  }

  /**
   * Binds `localAddress` (IPV4_ANY for all) : `localPort` (0 for an ephemeral port). Throws
   * EADDRINUSE when taken, EADDRNOTAVAIL for an address that is not this host's.
   */
  bind(localAddress: Ipv4Address, localPort: number, handler: UdpHandler, opts: UdpBindOptions = {}): UdpPcb {
    if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65_535) throw new KernelError('EINVAL', `UDP port ${localPort} is not 0..65535`);
    if (localAddress !== IPV4_ANY && !this.#ip.isLocal(localAddress)) {
      throw new KernelError('EADDRNOTAVAIL', `${formatIpv4(localAddress)} is not an address of this host; bind to 0.0.0.0 or one of its addresses`);
    }
    const port = localPort === 0 ? this.#ephemeral() : localPort;
    const taken = this.#ports.get(port) ?? [];
    for (const p of taken) {
      const overlap = p.localAddress === IPV4_ANY || localAddress === IPV4_ANY || p.localAddress === localAddress;
      const sameIf = p.opts.ifindex === undefined || opts.ifindex === undefined || p.opts.ifindex === opts.ifindex;
      if (overlap && sameIf) throw new KernelError('EADDRINUSE', `UDP port ${port} on ${formatIpv4(localAddress)} is already bound; close the other socket or pick another port`);
    }
    const pcb = new UdpPcb(this, localAddress, port, handler, opts);
    taken.push(pcb);
    this.#ports.set(port, taken);
    return pcb;
  }

  #ephemeral(): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.#nextEphemeral + i) % EPHEMERAL_COUNT);
      if (!this.#ports.has(port)) {
        this.#nextEphemeral = (this.#nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    throw new KernelError('EADDRINUSE', 'every ephemeral UDP port is in use; close some sockets');
  }

  unbind(pcb: UdpPcb): void {
    const list = this.#ports.get(pcb.localPort);
    if (list === undefined) return;
    const rest = list.filter((p) => p !== pcb);
    if (rest.length === 0) this.#ports.delete(pcb.localPort);
    else this.#ports.set(pcb.localPort, rest);
  }

  /** Bound endpoints, for tests and introspection. */
  get bound(): number {
    let n = 0;
    for (const l of this.#ports.values()) n += l.length;
    return n;
  }

  /** A buffer for `length` bytes of data with room for the UDP, IP and link headers in front. */
  allocBuf(dst: Ipv4Address, length: number, ifindex?: number): NetBuf | null {
    const b = ifindex !== undefined && dst === IPV4_BROADCAST ? this.#ip.allocBufOn(ifindex, UDP_HEADER_LEN + length) : this.#ip.allocBuf(dst, UDP_HEADER_LEN + length);
    if (b === null) return null;
    b.offset += UDP_HEADER_LEN;
    b.length -= UDP_HEADER_LEN;
    return b;
  }

  send(pcb: UdpPcb, data: Uint8Array, dst: Ipv4Address, dstPort: number): IpOutputResult {
    if (data.length > UDP_MAX_PAYLOAD) throw new KernelError('EMSGSIZE', `a UDP datagram carries at most ${UDP_MAX_PAYLOAD} bytes, not ${data.length}`);
    const buf = this.allocBuf(dst, data.length, pcb.opts.ifindex);
    if (buf === null) {
      this.stats.txDropped++;
      return 'no-buffer';
    }
    buf.store.set(data, buf.offset);
    return this.sendBuf(pcb, buf, dst, dstPort);
  }

  sendBuf(pcb: UdpPcb, buf: NetBuf, dst: Ipv4Address, dstPort: number): IpOutputResult {
    if (!Number.isInteger(dstPort) || dstPort <= 0 || dstPort > 65_535) {
      buf.release();
      throw new KernelError('EINVAL', `UDP destination port ${dstPort} is not 1..65535`);
    }
    if (buf.next !== null || buf.offset < UDP_HEADER_LEN) {
      const copy = this.allocBuf(dst, chainBytes(buf), pcb.opts.ifindex);
      if (copy === null) {
        buf.release();
        return 'no-buffer';
      }
      let at = copy.offset;
      for (let b: NetBuf | null = buf; b !== null; b = b.next) {
        copy.store.set(b.store.subarray(b.offset, b.offset + b.length), at);
        at += b.length;
      }
      buf.release();
      buf = copy;
    }
    const broadcast = dst === IPV4_BROADCAST;
    const src = pcb.localAddress !== IPV4_ANY ? pcb.localAddress : broadcast && pcb.opts.ifindex !== undefined ? (this.#ip.interfaces[pcb.opts.ifindex]?.address ?? 0) : this.#ip.sourceFor(dst);
    if (src === undefined) {
      buf.release();
      this.stats.txDropped++;
      return 'no-route';
    }
    const dataLength = buf.length;
    buf.offset -= UDP_HEADER_LEN;
    buf.length += UDP_HEADER_LEN;
    emitUdp(buf.store, buf.offset, pcb.localPort, dstPort, dataLength, src, dst, true);
    this.stats.txDatagrams++;
    return this.#ip.output(buf, src, dst, IpProtocol.UDP, { ifindex: broadcast ? pcb.opts.ifindex : undefined });
  }

  input(info: IpDatagramInfo, buf: NetBuf): void {
    const b = buf.store;
    const off = buf.offset;
    if (checkUdp(b, off, buf.length, info.src, info.dst, info.checksumVerified) !== 'ok') {
      this.stats.rxDropped++;
      buf.release();
      return;
    }
    const dstPort = udpDstPort(b, off);
    const pcb = this.#match(info, dstPort);
    if (pcb === undefined) {
      this.stats.rxNoPort++;
      this.#ip.sendUnreachable(info, buf, UnreachableCode.Port);
      buf.release();
      return;
    }
    const srcPort = udpSrcPort(b, off);
    buf.length = udpLength(b, off) - UDP_HEADER_LEN;
    buf.offset += UDP_HEADER_LEN;
    this.stats.rxDatagrams++;
    pcb.handler({ buf, src: info.src, srcPort, dst: info.dst, dstPort, ifindex: info.ifindex });
  }

  #match(info: IpDatagramInfo, port: number): UdpPcb | undefined {
    const list = this.#ports.get(port);
    if (list === undefined) return undefined;
    let wildcard: UdpPcb | undefined;
    for (const p of list) {
      if (p.opts.ifindex !== undefined && p.opts.ifindex !== info.ifindex) continue;
      if (p.localAddress === info.dst) return p;
      if (p.localAddress === IPV4_ANY) wildcard ??= p;
    }
    return wildcard;
  }

  poll(): number {
    return Number.POSITIVE_INFINITY;
  }

  icmpError(type: number, code: number, src: Ipv4Address, dst: Ipv4Address, quoted: Uint8Array): void {
    if (quoted.length < 4) return;
    const srcPort = (quoted[0] << 8) | quoted[1];
    const dstPort = (quoted[2] << 8) | quoted[3];
    const list = this.#ports.get(srcPort);
    if (list === undefined) return;
    for (const p of list) if (p.localAddress === IPV4_ANY || p.localAddress === src) p.opts.onError?.(type, code, dst, dstPort);
  }
}

function chainBytes(buf: NetBuf): number {
  let n = 0;
  for (let b: NetBuf | null = buf; b !== null; b = b.next) n += b.length;
  return n;
}
