import { heapBuf, type NetBuf, type NetDevice, prepend } from '@uk/netdev';
import { DEFAULT_ARP_LIMITS, type ArpLimits } from '../arp/cache.js';
import { NetInterface } from '../stack/interface.js';
import type { IpDatagramInfo, IpLayer, IpOutputResult, Transport } from '../stack/transport.js';
import { ARP_PACKET_LEN, ArpOp, arpOp, arpSha, arpSpa, arpTpa, checkArp, emitArp } from '../wire/arp.js';
import { checkEthernet, ETH_HEADER_LEN, EtherType, emitEthernet, ethType, isBroadcastMac, macBroadcast, macEquals } from '../wire/ethernet.js';
import { emitIcmpError, ICMP_HEADER_LEN, IcmpType } from '../wire/icmp.js';
import {
  checkIpv4,
  emitIpv4,
  IPV4_HEADER_LEN,
  ipv4Dst,
  ipv4FragmentOffset,
  ipv4HeaderLength,
  ipv4Id,
  ipv4MoreFragments,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Ttl,
} from '../wire/ipv4.js';
import { IPV4_BROADCAST, type Ipv4Address } from './address.js';
import { DEFAULT_REASSEMBLY_LIMITS, Reassembler, type ReassemblyLimits } from './reassembly.js';
import { type Route, RouteTable } from './route.js';

const LINK_AND_IP = ETH_HEADER_LEN + IPV4_HEADER_LEN;
const BROADCAST_MAC = macBroadcast();

export interface IpLimits {
  readonly arp: ArpLimits;
  readonly reassembly: ReassemblyLimits;
  /** Frames held per interface while the device's transmit queue is full. */
  readonly txBacklog: number;
  /** Datagrams to this host's own addresses waiting for the next poll. */
  readonly localQueue: number;
  /** ICMP error messages sent per second at most (RFC 1812 §4.3.2.8). */
  readonly icmpErrorsPerSecond: number;
}

export const DEFAULT_IP_LIMITS: IpLimits = {
  arp: DEFAULT_ARP_LIMITS,
  reassembly: DEFAULT_REASSEMBLY_LIMITS,
  txBacklog: 256,
  localQueue: 256,
  icmpErrorsPerSecond: 100,
};


const TCP_PROTOCOL = 6;
/** The checksum field's place in a TCP header. */
const TCP_CHECKSUM_OFFSET = 16;
/** Counters of the IP layer (monotonic). */
export interface IpStats {
  rxFrames: number;
  rxDropped: number;
  rxArp: number;
  rxIp: number;
  rxFragments: number;
  reassembled: number;
  delivered: number;
  noProtocol: number;
  txPackets: number;
  txFragments: number;
  txDropped: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  icmpErrorsSent: number;
  /** Exceptions thrown by a transport or handler and caught at the stack's edge; should stay 0. */
  internalErrors: number;
}

export interface IpEnvironment {
  now(): number;
  random(): number;
  /** Something changed that needs a poll soon (a timer armed, a packet queued, input seen). */
  requestPoll(): void;
  onError(error: unknown): void;
}

export interface IpOutputOptions {
  ttl?: number;
  tos?: number;
  dontFragment?: boolean;
  /** Send on this interface, whatever the routes say (DHCP, limited broadcast). */
  ifindex?: number;
}

/**
 * IPv4 over Ethernet for a host with several interfaces: ARP, routing, fragmentation and
 * reassembly, local delivery and the dispatch to transports. It implements the IpLayer the
 * transports see. It never blocks and never reads a clock of its own.
 */
export class Ipv4Layer implements IpLayer {
  readonly interfaces: NetInterface[] = [];
  readonly routes = new RouteTable();
  readonly transports = new Map<number, Transport>();
  readonly reassembly: Reassembler;
  readonly stats: IpStats = {
    rxFrames: 0,
    rxDropped: 0,
    rxArp: 0,
    rxIp: 0,
    rxFragments: 0,
    reassembled: 0,
    delivered: 0,
    noProtocol: 0,
    txPackets: 0,
    txFragments: 0,
    txDropped: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
    icmpErrorsSent: 0,
    internalErrors: 0,
  };
  readonly #env: IpEnvironment;
  readonly limits: IpLimits;
  #nextId: number;
  #batch = 0;
  #local: Array<{ info: IpDatagramInfo; protocol: number; buf: NetBuf }> = [];
  #icmpTokens: number;
  #icmpRefill = 0;
  /** Hears each interface's address change (DHCP, static). */
  readonly addressListeners: Array<(iface: NetInterface) => void> = [];

  /** @internal Made by NetStack; reach it as `stack.ip`. */
  constructor(env: IpEnvironment, limits: IpLimits) {
    this.#env = env;
    this.limits = limits;
    this.reassembly = new Reassembler(limits.reassembly);
    this.#nextId = Math.floor(env.random() * 0x10000) & 0xffff;
    this.#icmpTokens = limits.icmpErrorsPerSecond;
  }

  // ── interfaces and configuration ──────────────────────────────────────────────────────

  attach(device: NetDevice): NetInterface {
    const iface = new NetInterface(this.interfaces.length, device, this.limits.arp);
    this.interfaces.push(iface);
    device.setReceiver((frame) => this.input(iface.index, frame));
    device.onTxReady(() => this.batch(() => this.#flush(iface)));
    device.onLinkChange(() => this.#env.requestPoll());
    return iface;
  }

  /** Sets an interface's address and the routes that follow from it (connected network, default via `gateway`). */
  configure(ifindex: number, address: Ipv4Address, prefix: number, gateway: Ipv4Address, origin: string): void {
    const iface = this.#iface(ifindex);
    this.deconfigure(ifindex, origin);
    iface.address = address >>> 0;
    iface.prefix = prefix;
    iface.gateway = gateway >>> 0;
    if (prefix > 0) this.routes.add({ dest: address, prefix, ifindex, origin, metric: 0 });
    if (gateway !== 0) this.routes.add({ dest: 0, prefix: 0, gateway, ifindex, origin, metric: 10 * ifindex });
    this.#announce(iface);
    for (const l of this.addressListeners) l(iface);
  }

  /** Drops an interface's address and the routes `origin` added. */
  deconfigure(ifindex: number, origin: string): void {
    const iface = this.#iface(ifindex);
    const had = iface.address !== 0;
    this.routes.remove((r) => r.ifindex === ifindex && r.origin === origin);
    iface.address = 0;
    iface.prefix = 0;
    iface.gateway = 0;
    // The ARP cache stays: neighbours keep their hardware addresses, and a packet waiting for
    // one (a DHCPRELEASE) may still go.
    if (had) for (const l of this.addressListeners) l(iface);
  }

  #iface(ifindex: number): NetInterface {
    const i = this.interfaces[ifindex];
    if (i === undefined) throw new RangeError(`no interface ${ifindex}`);
    return i;
  }

  /** Runs `fn` with transmission batched: frames built meanwhile reach each device in one transmit call. */
  batch<T>(fn: () => T): T {
    this.#batch++;
    try {
      return fn();
    } finally {
      if (--this.#batch === 0) for (const i of this.interfaces) if (i.pending.length > 0) this.#flush(i);
    }
  }

  // ── receive ────────────────────────────────────────────────────────────────────────────

  /** A frame from interface `ifindex`'s device; the layer owns it from here on. */
  input(ifindex: number, frame: NetBuf): void {
    const iface = this.interfaces[ifindex];
    this.stats.rxFrames++;
    if (iface === undefined) {
      frame.release();
      return;
    }
    try {
      this.batch(() => this.#inputFrame(iface, frame));
    } catch (e) {
      this.stats.internalErrors++;
      this.#env.onError(e);
    }
    this.#env.requestPoll();
  }

  #inputFrame(iface: NetInterface, frame: NetBuf): void {
    if (frame.next !== null) {
      // A chained frame (a device with small buffers): make it contiguous once.
      const whole = heapBuf(chainBytes(frame), 0);
      let at = 0;
      for (let b: NetBuf | null = frame; b !== null; b = b.next) {
        whole.store.set(b.store.subarray(b.offset, b.offset + b.length), at);
        at += b.length;
      }
      frame.release();
      frame = whole;
    }
    const b = frame.store;
    const off = frame.offset;
    if (!checkEthernet(frame.length)) return this.#drop(frame);
    if (!macEquals(b, off, iface.mac) && !isBroadcastMac(b, off)) return this.#drop(frame);
    const type = ethType(b, off);
    if (type === EtherType.ARP) {
      this.stats.rxArp++;
      this.#arpInput(iface, b, off + ETH_HEADER_LEN, frame.length - ETH_HEADER_LEN);
      frame.release();
      return;
    }
    if (type !== EtherType.IPv4) return this.#drop(frame);
    frame.offset += ETH_HEADER_LEN;
    frame.length -= ETH_HEADER_LEN;
    this.#ipInput(iface, frame);
  }

  #drop(frame: NetBuf): void {
    this.stats.rxDropped++;
    frame.release();
  }

  #arpInput(iface: NetInterface, b: Uint8Array, off: number, length: number): void {
    if (!checkArp(b, off, length)) return;
    const op = arpOp(b, off);
    const spa = arpSpa(b, off);
    const tpa = arpTpa(b, off);
    const sha = arpSha(b, off);
    if (spa === 0 || spa === IPV4_BROADCAST || (sha[0] & 1) === 1) return; // probes and nonsense teach nothing
    const forUs = iface.configured && tpa === iface.address;
    const now = this.#env.now();
    const waiting = iface.arp.update(spa, sha, now, forUs);
    for (const p of waiting) this.#sendFrame(iface, p, sha);
    if (op === ArpOp.Request && forUs) {
      const reply = iface.allocTx(0, ARP_PACKET_LEN + ETH_HEADER_LEN);
      if (reply === null) return;
      emitEthernet(reply.store, reply.offset, sha, iface.mac, EtherType.ARP);
      emitArp(reply.store, reply.offset + ETH_HEADER_LEN, { op: ArpOp.Reply, sha: iface.mac, spa: iface.address, tha: sha, tpa: spa });
      this.stats.arpRepliesSent++;
      this.#queueTx(iface, reply);
    }
  }

  #isLocalFor(iface: NetInterface, dst: Ipv4Address): boolean {
    if (dst === IPV4_BROADCAST) return true;
    if (!iface.configured) return true; // DHCP: offers may be unicast to the address being offered
    if (dst === iface.broadcast) return true;
    return this.isLocal(dst);
  }

  #ipInput(iface: NetInterface, pkt: NetBuf): void {
    const b = pkt.store;
    const off = pkt.offset;
    if (checkIpv4(b, off, pkt.length) !== 'ok') return this.#drop(pkt);
    this.stats.rxIp++;
    pkt.length = ipv4TotalLength(b, off); // drop link padding
    const src = ipv4Src(b, off);
    const dst = ipv4Dst(b, off);
    // RFC 1122 §3.2.1.3: a source that is broadcast or multicast is bogus.
    if (src === IPV4_BROADCAST || isMulticast(src) || (iface.configured && src === iface.broadcast)) return this.#drop(pkt);
    if (!this.#isLocalFor(iface, dst)) return this.#drop(pkt);
    const hl = ipv4HeaderLength(b, off);
    const protocol = ipv4Protocol(b, off);
    const ttl = ipv4Ttl(b, off);
    const fragOffset = ipv4FragmentOffset(b, off);
    const more = ipv4MoreFragments(b, off);
    let payload = pkt;
    if (more || fragOffset !== 0) {
      this.stats.rxFragments++;
      const whole = this.reassembly.add(this.#env.now(), src, dst, ipv4Id(b, off), protocol, fragOffset, more, b.subarray(off + hl, off + pkt.length));
      pkt.release();
      if (whole === null) {
        this.#env.requestPoll();
        return;
      }
      this.stats.reassembled++;
      payload = whole;
    } else {
      pkt.offset += hl;
      pkt.length -= hl;
    }
    const info: IpDatagramInfo = { src, dst, ttl, checksumVerified: iface.device.offloads.rxChecksumVerified && payload === pkt, ifindex: iface.index };
    this.#deliver(info, protocol, payload);
  }

  #deliver(info: IpDatagramInfo, protocol: number, buf: NetBuf): void {
    const t = this.transports.get(protocol);
    if (t === undefined) {
      this.stats.noProtocol++;
      this.sendUnreachable(info, buf, 2, protocol);
      buf.release();
      return;
    }
    this.stats.delivered++;
    t.input(info, buf);
  }

  // ── transmit ───────────────────────────────────────────────────────────────────────────

  #route(dst: Ipv4Address, ifindex?: number): { iface: NetInterface; nextHop: Ipv4Address } | undefined {
    if (ifindex !== undefined) {
      const iface = this.interfaces[ifindex];
      if (iface === undefined) return undefined;
      const r = dst === IPV4_BROADCAST || iface.onLink(dst) ? undefined : this.routes.lookup(dst, (i) => i === ifindex);
      return { iface, nextHop: r !== undefined && r.gateway !== 0 ? r.gateway : dst };
    }
    if (dst === IPV4_BROADCAST) {
      const iface = this.interfaces.find((i) => i.device.linkUp) ?? this.interfaces[0];
      return iface === undefined ? undefined : { iface, nextHop: dst };
    }
    const r: Route | undefined = this.routes.lookup(dst);
    if (r === undefined) return undefined;
    const iface = this.interfaces[r.ifindex];
    if (iface === undefined) return undefined;
    return { iface, nextHop: r.gateway !== 0 ? r.gateway : dst };
  }

  allocBuf(dst: Ipv4Address, length: number): NetBuf | null {
    if (this.isOwnAddress(dst)) return heapBuf(length, LINK_AND_IP);
    const r = this.#route(dst);
    if (r === undefined || length + IPV4_HEADER_LEN > r.iface.mtu) return heapBuf(length, LINK_AND_IP);
    return r.iface.allocTx(LINK_AND_IP, length);
  }

  /** A buffer on the interface `ifindex` (for broadcasts before a route exists). */
  allocBufOn(ifindex: number, length: number): NetBuf | null {
    const iface = this.interfaces[ifindex];
    if (iface === undefined || length + IPV4_HEADER_LEN > iface.mtu) return heapBuf(length, LINK_AND_IP);
    return iface.allocTx(LINK_AND_IP, length);
  }

  output(buf: NetBuf, src: Ipv4Address, dst: Ipv4Address, protocol: number, opts?: IpOutputOptions): IpOutputResult {
    try {
      return this.batch(() => this.#output(buf, src, dst, protocol, opts));
    } finally {
      this.#env.requestPoll();
    }
  }

  #output(buf: NetBuf, src: Ipv4Address, dst: Ipv4Address, protocol: number, opts?: IpOutputOptions): IpOutputResult {
    const length = chainBytes(buf);
    if (length + IPV4_HEADER_LEN > 65_535) {
      buf.release();
      return 'too-big';
    }
    if (this.isOwnAddress(dst) && opts?.ifindex === undefined) return this.#loopback(buf, src, dst, protocol, opts);
    const r = this.#route(dst, opts?.ifindex);
    if (r === undefined) {
      buf.release();
      this.stats.txDropped++;
      return 'no-route';
    }
    const { iface, nextHop } = r;
    const mtu = iface.mtu;
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) & 0xffff;
    if (length + IPV4_HEADER_LEN <= mtu) {
      let pkt = buf;
      if (!iface.owns(buf) || buf.offset < LINK_AND_IP) {
        const copy = iface.allocTx(LINK_AND_IP, length);
        if (copy === null) {
          buf.release();
          this.stats.txDropped++;
          return 'no-buffer';
        }
        copyChain(buf, copy.store, copy.offset);
        buf.release();
        pkt = copy;
      }
      prepend(pkt, IPV4_HEADER_LEN);
      emitIpv4(pkt.store, pkt.offset, { src, dst, protocol, payloadLength: length, ttl: opts?.ttl, tos: opts?.tos, id, dontFragment: opts?.dontFragment });
      // TCP left its checksum to the device (txChecksumOffload): say where it is, counted
      // from the first byte of the Ethernet frame, as virtio's csum_start is.
      if (protocol === TCP_PROTOCOL && iface.device.offloads.txChecksum) {
        pkt.csumStart = ETH_HEADER_LEN + IPV4_HEADER_LEN;
        pkt.csumOffset = TCP_CHECKSUM_OFFSET;
      }
      this.stats.txPackets++;
      return this.#transmitIp(iface, pkt, nextHop);
    }
    if (opts?.dontFragment) {
      buf.release();
      return 'too-big';
    }
    // Fragment: each piece a multiple of 8 bytes but the last (RFC 791 §3.2).
    const piece = Math.floor((mtu - IPV4_HEADER_LEN) / 8) * 8;
    const flat = new Uint8Array(length);
    copyChain(buf, flat, 0);
    buf.release();
    let result: IpOutputResult = 'sent';
    for (let at = 0; at < length; at += piece) {
      const n = Math.min(piece, length - at);
      const f = iface.allocTx(ETH_HEADER_LEN, IPV4_HEADER_LEN + n);
      if (f === null) {
        this.stats.txDropped++;
        return 'no-buffer';
      }
      f.store.set(flat.subarray(at, at + n), f.offset + IPV4_HEADER_LEN);
      emitIpv4(f.store, f.offset, { src, dst, protocol, payloadLength: n, ttl: opts?.ttl, tos: opts?.tos, id, fragmentOffset: at, moreFragments: at + n < length });
      this.stats.txFragments++;
      const r2 = this.#transmitIp(iface, f, nextHop);
      if (r2 !== 'sent') result = r2;
    }
    this.stats.txPackets++;
    return result;
  }

  /** Datagrams to ourselves: delivered at the next poll, never from inside output. */
  #loopback(buf: NetBuf, src: Ipv4Address, dst: Ipv4Address, protocol: number, opts?: IpOutputOptions): IpOutputResult {
    if (this.#local.length >= this.limits.localQueue) {
      buf.release();
      this.stats.txDropped++;
      return 'no-buffer';
    }
    let pkt = buf;
    if (buf.next !== null) {
      pkt = heapBuf(chainBytes(buf), LINK_AND_IP);
      copyChain(buf, pkt.store, pkt.offset);
      buf.release();
    }
    const ifindex = this.interfaces.findIndex((i) => i.address === dst);
    this.#local.push({ info: { src: src === 0 ? dst : src, dst, ttl: opts?.ttl ?? 64, checksumVerified: true, ifindex: Math.max(0, ifindex) }, protocol, buf: pkt });
    this.stats.txPackets++;
    return 'sent';
  }

  /** Prepends the link header, resolving `nextHop` first; queues the packet while ARP works. */
  #transmitIp(iface: NetInterface, pkt: NetBuf, nextHop: Ipv4Address): IpOutputResult {
    if (nextHop === IPV4_BROADCAST || (iface.configured && nextHop === iface.broadcast)) {
      this.#sendFrame(iface, pkt, BROADCAST_MAC);
      return 'sent';
    }
    if (isMulticast(nextHop)) {
      pkt.release();
      this.stats.txDropped++;
      return 'no-route';
    }
    const now = this.#env.now();
    const mac = iface.arp.lookup(nextHop, now);
    if (mac !== undefined) {
      this.#sendFrame(iface, pkt, mac);
      return 'sent';
    }
    if (iface.arp.enqueue(nextHop, pkt, now)) this.#sendArpRequest(iface, nextHop);
    return 'queued-for-arp';
  }

  #sendFrame(iface: NetInterface, pkt: NetBuf, dstMac: Uint8Array): void {
    if (!prepend(pkt, ETH_HEADER_LEN)) {
      pkt.release();
      this.stats.txDropped++;
      return;
    }
    emitEthernet(pkt.store, pkt.offset, dstMac, iface.mac, EtherType.IPv4);
    this.#queueTx(iface, pkt);
  }

  #sendArpRequest(iface: NetInterface, target: Ipv4Address): void {
    const f = iface.allocTx(0, ETH_HEADER_LEN + ARP_PACKET_LEN);
    if (f === null) return;
    emitEthernet(f.store, f.offset, BROADCAST_MAC, iface.mac, EtherType.ARP);
    emitArp(f.store, f.offset + ETH_HEADER_LEN, { op: ArpOp.Request, sha: iface.mac, spa: iface.address, tha: new Uint8Array(6), tpa: target });
    this.stats.arpRequestsSent++;
    this.#queueTx(iface, f);
  }

  /** A gratuitous ARP request for a newly configured address, so neighbours update their caches. */
  #announce(iface: NetInterface): void {
    if (!iface.configured) return;
    const f = iface.allocTx(0, ETH_HEADER_LEN + ARP_PACKET_LEN);
    if (f === null) return;
    emitEthernet(f.store, f.offset, BROADCAST_MAC, iface.mac, EtherType.ARP);
    emitArp(f.store, f.offset + ETH_HEADER_LEN, { op: ArpOp.Request, sha: iface.mac, spa: iface.address, tha: new Uint8Array(6), tpa: iface.address });
    this.batch(() => this.#queueTx(iface, f));
  }

  #queueTx(iface: NetInterface, frame: NetBuf): void {
    iface.pending.push(frame);
    if (this.#batch === 0) this.#flush(iface);
  }

  #flush(iface: NetInterface): void {
    let frames = iface.backlog.length > 0 ? iface.backlog.concat(iface.pending) : iface.pending.slice();
    iface.pending.length = 0;
    iface.backlog = [];
    if (frames.length === 0) return;
    let n = 0;
    try {
      n = iface.device.transmit(frames);
    } catch (e) {
      this.stats.internalErrors++;
      this.#env.onError(e);
    }
    frames = frames.slice(n);
    while (frames.length > this.limits.txBacklog) {
      (frames.shift() as NetBuf).release();
      this.stats.txDropped++;
    }
    iface.backlog = frames;
  }

  // ── the rest of IpLayer ───────────────────────────────────────────────────────────────

  sourceFor(dst: Ipv4Address): Ipv4Address | undefined {
    if (this.isOwnAddress(dst)) return dst;
    const r = this.#route(dst);
    return r?.iface.address;
  }

  mtuFor(dst: Ipv4Address): number {
    if (this.isOwnAddress(dst)) return 65_535 - IPV4_HEADER_LEN;
    const r = this.#route(dst);
    return (r?.iface.mtu ?? 1500) - IPV4_HEADER_LEN;
  }

  txChecksumOffload(dst: Ipv4Address): boolean {
    if (this.isOwnAddress(dst)) return false;
    return this.#route(dst)?.iface.device.offloads.txChecksum ?? false;
  }

  /** One of this host's unicast addresses (or loopback): what output delivers locally. */
  isOwnAddress(a: Ipv4Address): boolean {
    if (a >>> 24 === 127) return true;
    for (const i of this.interfaces) if (i.configured && i.address === a) return true;
    return false;
  }

  isLocal(a: Ipv4Address): boolean {
    if (a === IPV4_BROADCAST) return true;
    if ((a >>> 24) === 127) return true;
    for (const i of this.interfaces) if (i.configured && (i.address === a || i.broadcast === a)) return true;
    return false;
  }

  sendUnreachable(info: IpDatagramInfo, original: NetBuf, code: number, protocol?: number): void {
    // RFC 1122 §3.2.2: never about broadcasts, multicasts or from an unknown source.
    if (info.dst === IPV4_BROADCAST || isMulticast(info.dst) || info.src === 0 || this.interfaces.some((i) => i.configured && i.broadcast === info.dst)) return;
    if (!this.#icmpAllowed()) return;
    const header = quotedHeader(original, info, protocol);
    const quoted = Math.min(original.length, 8);
    const len = ICMP_HEADER_LEN + header.length + quoted;
    const out = this.allocBuf(info.src, len);
    if (out === null) return;
    const b = out.store;
    b.set(header, out.offset + ICMP_HEADER_LEN);
    b.set(original.store.subarray(original.offset, original.offset + quoted), out.offset + ICMP_HEADER_LEN + header.length);
    emitIcmpError(b, out.offset, len, IcmpType.DestinationUnreachable, code);
    this.stats.icmpErrorsSent++;
    this.output(out, info.dst, info.src, 1);
  }

  #icmpAllowed(): boolean {
    const now = this.#env.now();
    const rate = this.limits.icmpErrorsPerSecond;
    if (now - this.#icmpRefill >= 1000) {
      this.#icmpTokens = rate;
      this.#icmpRefill = now;
    }
    if (this.#icmpTokens <= 0) return false;
    this.#icmpTokens--;
    return true;
  }

  // ── time ───────────────────────────────────────────────────────────────────────────────

  /** Local deliveries, ARP retries, reassembly timeouts, transports' timers; returns the next deadline. */
  poll(now: number): number {
    return this.batch(() => {
      let next = Number.POSITIVE_INFINITY;
      if (this.#local.length > 0) {
        const batch = this.#local;
        this.#local = [];
        for (const { info, protocol, buf } of batch) {
          try {
            this.#deliver(info, protocol, buf);
          } catch (e) {
            this.stats.internalErrors++;
            this.#env.onError(e);
          }
        }
      }
      for (const iface of this.interfaces) {
        next = Math.min(next, iface.arp.poll(now, (ip) => this.#sendArpRequest(iface, ip)));
        if (iface.backlog.length > 0 && iface.pending.length === 0) this.#flush(iface);
      }
      next = Math.min(next, this.reassembly.expire(now));
      for (const t of this.transports.values()) {
        try {
          next = Math.min(next, t.poll(now));
        } catch (e) {
          this.stats.internalErrors++;
          this.#env.onError(e);
        }
      }
      if (this.#local.length > 0) next = now;
      return next;
    });
  }

  get localQueued(): number {
    return this.#local.length;
  }
}

function isMulticast(a: Ipv4Address): boolean {
  return a >>> 28 === 0xe;
}

function chainBytes(buf: NetBuf): number {
  let n = 0;
  for (let b: NetBuf | null = buf; b !== null; b = b.next) n += b.length;
  return n;
}

function copyChain(buf: NetBuf, into: Uint8Array, at: number): void {
  for (let b: NetBuf | null = buf; b !== null; b = b.next) {
    into.set(b.store.subarray(b.offset, b.offset + b.length), at);
    at += b.length;
  }
}

/**
 * The IP header of the datagram `original` came in (its window starts at the transport
 * header): still in the buffer's headroom when it was received as one piece, rebuilt from
 * `info` otherwise.
 */
function quotedHeader(original: NetBuf, info: IpDatagramInfo, protocol?: number): Uint8Array {
  const b = original.store;
  for (let hl = IPV4_HEADER_LEN; hl <= 60; hl += 4) {
    const at = original.offset - hl;
    if (at < 0) break;
    if (b[at] === (0x40 | (hl / 4)) && ipv4Src(b, at) === info.src && ipv4Dst(b, at) === info.dst) {
      return b.slice(at, original.offset);
    }
  }
  const h = new Uint8Array(IPV4_HEADER_LEN);
  emitIpv4(h, 0, { src: info.src, dst: info.dst, protocol: protocol ?? 0, payloadLength: original.length, ttl: info.ttl });
  return h;
}
