import net from 'node:net';
import { arp, driveWithHostTimers, ethernet, formatIpv4, icmp, type IpDatagramInfo, type Ipv4Address, IpProtocol, ipv4, NetStack, parseIpv4, Reassembler, type StackDriver, udp } from '@uk/net';
import type { FramePort } from '../frame-port.js';
import { DhcpServer } from './dhcp/dhcp-server.js';
import { DnsForwarder } from './dns/dns-forwarder.js';
import { systemResolver } from './dns/host-resolver.js';
import { sendEchoReply, sendUdpFrom } from './link/datagram-out.js';
import { copyBuf, type NetBuf } from './link/frame-buf.js';
import { LinkDevice } from './link/link-device.js';
import { type Addressing, addressing } from './spec/addressing.js';
import { DEFAULT_USER_LIMITS, type HostForward, type UserNetLimits, type UserNetOptions } from './spec/user-options.js';
import { type HostTarget, TcpNat } from './tcp/tcp-nat.js';
import { UdpNat } from './udp/udp-nat.js';

/** The gateway's MAC, as QEMU's slirp has it (52:55 + the gateway's address). */
function gatewayMac(gateway: Ipv4Address): Uint8Array {
  return Uint8Array.of(0x52, 0x55, gateway >>> 24, (gateway >>> 16) & 255, (gateway >>> 8) & 255, gateway & 255);
}

/** A forwarded port as it is bound: `hostPort` is the real one when 0 was asked for. */
export interface BoundForward extends HostForward {
  readonly boundPort: number;
}

export interface UserNetStats {
  /** Frames from the guest, and those dropped before any protocol saw them (not for us, malformed). */
  framesIn: number;
  framesDropped: number;
  /** Frames to the guest. */
  framesOut: number;
}

const MAX_QUEUED_FRAMES = 4096;

/**
 * User-mode networking, like QEMU's `-netdev user`: the guest's NIC is joined to a gateway
 * that the VMM runs — an @uk/net stack at 10.0.2.2 that answers ARP and ping, leases
 * 10.0.2.15 by DHCP, forwards DNS questions at 10.0.2.3 to the host's resolver, carries the
 * guest's TCP and UDP to host sockets (10.0.2.2 stands for the host's loopback), and forwards
 * host ports into the guest (`hostfwd`). Nothing needs privileges: every packet becomes a
 * socket call on the host. Everything it opens is bounded and closed with it.
 */
export class UserNetPort implements FramePort {
  readonly label: string;
  readonly net: Addressing;
  readonly stack: NetStack;
  /** @internal The gateway's side of the link (for tests). */
  readonly device: LinkDevice;
  /** @internal The TCP NAT (for tests). */
  readonly tcp: TcpNat;
  /** @internal The UDP NAT (for tests). */
  readonly udp: UdpNat;
  /** @internal The DHCP server (for tests). */
  readonly dhcp: DhcpServer;
  /** @internal The DNS forwarder (for tests). */
  readonly dns: DnsForwarder;
  readonly limits: UserNetLimits;
  readonly stats: UserNetStats = { framesIn: 0, framesDropped: 0, framesOut: 0 };
  /** Resolves once every forwarded port listens; rejects with a message naming the one that cannot. */
  readonly ready: Promise<void>;
  readonly #driver: StackDriver;
  readonly #reassembly: Reassembler;
  readonly #servers: net.Server[] = [];
  readonly #forwards: BoundForward[] = [];
  readonly #log: (line: string) => void;
  readonly #queue: NetBuf[] = [];
  #scheduled = false;
  #closed = false;

  constructor(readonly options: UserNetOptions = {}) {
    this.net = addressing(options);
    const n = this.net;
    this.limits = { ...DEFAULT_USER_LIMITS, ...options.limits };
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.label = `user ${formatIpv4(n.network)}/${n.prefix}`;
    this.stack = new NetStack({
      now: () => performance.now(),
      onError: (e) => this.#log(`uk: user network: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    });
    this.device = new LinkDevice(gatewayMac(n.gateway), 1500, options.nicBacklog);
    this.stack.addInterface(this.device, { address: formatIpv4(n.gateway), prefix: n.prefix });
    const target = this.#target();
    this.tcp = new TcpNat(this.stack, n, this.limits, target);
    this.stack.registerTransport(this.tcp);
    this.udp = new UdpNat(this.stack, n, this.limits, target);
    this.dhcp = new DhcpServer(this.stack, n, 0);
    this.dns = new DnsForwarder(options.resolver ?? systemResolver(), n.gateway, this.limits.dnsInFlight);
    this.#reassembly = new Reassembler({ maxDatagrams: 16, maxBytes: 256 * 1024, maxFragments: 64, timeoutMs: 30_000 });
    this.#driver = driveWithHostTimers(this.stack, { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) });
    this.ready = this.#listen(options.hostForwards ?? []);
    this.ready.catch(() => {});
  }

  /** Forwarded ports, with the host ports they got (after `ready`). */
  get forwards(): readonly BoundForward[] {
    return this.#forwards;
  }

  /** The address hostfwd sends to unless a rule names one: the first DHCP address. */
  get guestAddress(): Ipv4Address {
    return this.net.dhcpStart;
  }

  // ── FramePort ───────────────────────────────────────────────────────────────────────────

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.stats.framesIn++;
    if (this.#queue.length >= MAX_QUEUED_FRAMES || frame.length < ethernet.ETH_HEADER_LEN) {
      this.stats.framesDropped++;
      return;
    }
    // The frame is lent, and may be held (TCP keeps data until it is read): copy it once.
    this.#queue.push(copyBuf(frame));
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Handled after the NIC model's transmit turn, never inside it.
      queueMicrotask(() => this.#drain());
    }
  }

  setReceiver(receive: (frame: Uint8Array) => void): void {
    this.device.setGuestReceiver((frame) => {
      this.stats.framesOut++;
      receive(frame);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#driver.stop();
    this.tcp.close();
    this.udp.close();
    this.dns.close();
    this.dhcp.close();
    this.device.setGuestReceiver(undefined);
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  // ── frames from the guest ───────────────────────────────────────────────────────────────

  #drain(): void {
    this.#scheduled = false;
    const q = this.#queue.splice(0);
    for (const f of q) {
      try {
        this.#frame(f);
      } catch (e) {
        // A bug here must not take the host down with it; the frame is lost, as on a wire.
        this.stats.framesDropped++;
        this.#log(`uk: user network: dropped a frame: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  #frame(f: NetBuf): void {
    const b = f.store;
    const off = f.offset;
    const mac = this.device.mac;
    if (!ethernet.macEquals(b, off, mac) && !ethernet.isBroadcastMac(b, off)) return this.#drop();
    const type = ethernet.ethType(b, off);
    const l3 = off + ethernet.ETH_HEADER_LEN;
    const l3len = f.length - ethernet.ETH_HEADER_LEN;
    if (type === ethernet.EtherType.ARP) {
      if (arp.checkArp(b, l3, l3len) && arp.arpOp(b, l3) === arp.ArpOp.Request && arp.arpTpa(b, l3) === this.net.dns && arp.arpSpa(b, l3) !== 0) {
        this.#arpReply(b, l3);
      }
      this.device.deliver(f);
      return;
    }
    if (type !== ethernet.EtherType.IPv4 || ipv4.checkIpv4(b, l3, l3len) !== 'ok') return this.#drop();
    const dst = ipv4.ipv4Dst(b, l3);
    const src = ipv4.ipv4Src(b, l3);
    const protocol = ipv4.ipv4Protocol(b, l3);
    const n = this.net;
    const toGateway = dst === n.gateway;
    const dhcpToServer = toGateway && protocol === IpProtocol.UDP && l3len >= 28 && ((b[l3 + ipv4.ipv4HeaderLength(b, l3) + 2] << 8) | b[l3 + ipv4.ipv4HeaderLength(b, l3) + 3]) === 67;
    if (dst === 0xffff_ffff || dst === n.broadcast || (toGateway && protocol !== IpProtocol.UDP) || dhcpToServer) {
      // The gateway's own business: ARP, ping, DHCP, and TCP to the host's loopback.
      this.device.deliver(f);
      return;
    }
    // Everything else is carried to the host; it must come from a guest on this network.
    if (((src & n.mask) >>> 0) !== n.network || src === n.gateway || src === n.dns || src === n.network || src === n.broadcast) return this.#drop();
    if (dst >>> 28 === 0xe || (((dst & n.mask) >>> 0) === n.network && dst !== n.dns && !toGateway)) return this.#drop();
    const hl = ipv4.ipv4HeaderLength(b, l3);
    const total = ipv4.ipv4TotalLength(b, l3);
    let payload: NetBuf | null;
    const fragOffset = ipv4.ipv4FragmentOffset(b, l3);
    const more = ipv4.ipv4MoreFragments(b, l3);
    if (more || fragOffset !== 0) {
      payload = this.#reassembly.add(this.stack.now(), src, dst, ipv4.ipv4Id(b, l3), protocol, fragOffset, more, b.subarray(l3 + hl, l3 + total));
      if (payload === null) return;
    } else {
      f.offset = l3 + hl;
      f.length = total - hl;
      payload = f;
    }
    const info: IpDatagramInfo = { src, dst, ttl: ipv4.ipv4Ttl(b, l3), checksumVerified: this.device.offloads.rxChecksumVerified && payload === f, ifindex: 0 };
    if (protocol === IpProtocol.TCP) {
      if (toGateway) return this.#drop();
      this.tcp.input(info, payload);
      return;
    }
    if (protocol === IpProtocol.UDP) {
      this.#udp(info, payload);
      return;
    }
    if (protocol === IpProtocol.ICMP && dst === n.dns) {
      const p = payload.store.subarray(payload.offset, payload.offset + payload.length);
      if (icmp.checkIcmp(p, 0, p.length) && icmp.icmpType(p, 0) === icmp.IcmpType.EchoRequest) sendEchoReply(this.stack, n.dns, src, p);
      return;
    }
    // ICMP to the world needs raw sockets, which the VMM does not have: dropped, as slirp does.
    this.#drop();
  }

  #udp(info: IpDatagramInfo, p: NetBuf): void {
    const b = p.store;
    const off = p.offset;
    if (udp.checkUdp(b, off, p.length, info.src, info.dst, info.checksumVerified) !== 'ok') return this.#drop();
    const srcPort = udp.udpSrcPort(b, off);
    const dstPort = udp.udpDstPort(b, off);
    const data = b.subarray(off + udp.UDP_HEADER_LEN, off + udp.udpLength(b, off));
    if (info.dst === this.net.dns) {
      if (dstPort !== 53) return this.#drop();
      const guest = info.src;
      this.dns.query(data, (answer) => {
        if (!this.#closed) sendUdpFrom(this.stack, this.net.dns, 53, guest, srcPort, answer);
      });
      return;
    }
    this.udp.fromGuest(info.src, srcPort, info.dst, dstPort, data);
  }

  #arpReply(b: Uint8Array, l3: number): void {
    const sha = arp.arpSha(b, l3).slice();
    const spa = arp.arpSpa(b, l3);
    const frame = new Uint8Array(ethernet.ETH_HEADER_LEN + arp.ARP_PACKET_LEN);
    ethernet.emitEthernet(frame, 0, sha, this.device.mac, ethernet.EtherType.ARP);
    arp.emitArp(frame, ethernet.ETH_HEADER_LEN, { op: arp.ArpOp.Reply, sha: this.device.mac, spa: this.net.dns, tha: sha, tpa: spa });
    this.device.sendRaw(frame);
  }

  #drop(): void {
    this.stats.framesDropped++;
  }

  // ── the host side ───────────────────────────────────────────────────────────────────────

  /** Where a guest's connection to `dst` goes on the host (undefined: refused). */
  #target(): HostTarget {
    const n = this.net;
    const map = this.options.mapAddress;
    const restrict = this.options.restrict === true;
    return (dst) => {
      if (restrict || dst === n.dns || dst === 0 || dst >>> 28 >= 0xe) return undefined;
      if (((dst & n.mask) >>> 0) === n.network && dst !== n.gateway) return undefined;
      const text = formatIpv4(dst);
      const mapped = map?.(text);
      if (mapped !== undefined) return mapped;
      return dst === n.gateway ? '127.0.0.1' : text;
    };
  }

  async #listen(forwards: readonly HostForward[]): Promise<void> {
    for (const f of forwards) {
      const guest = f.guestAddress !== undefined ? (parseIpv4(f.guestAddress) as number) : this.guestAddress;
      let port: number;
      if (f.protocol === 'udp') port = await this.udp.forward(f, () => this.guestAddress);
      else port = await this.#listenTcp(f, guest);
      if (this.#closed) return;
      this.#forwards.push({ ...f, boundPort: port });
    }
    for (const line of this.describeForwards()) this.#log(`uk: ${this.label}: forwarding ${line}`);
  }

  #listenTcp(f: HostForward, guest: Ipv4Address): Promise<number> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.tcp.forward(s, guest, f.guestPort));
    server.maxConnections = this.limits.tcpConnections;
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'EADDRINUSE' ? 'the port is in use; pick another (hostfwd=tcp::PORT-:GUESTPORT)' : e.message;
        reject(new Error(`hostfwd ${f.protocol}:${f.hostAddress}:${f.hostPort}: cannot listen: ${why}`));
      });
      server.listen({ host: f.hostAddress, port: f.hostPort, exclusive: true, backlog: 1024 }, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.#log(`uk: user network: hostfwd ${f.hostAddress}:${f.hostPort}: ${e.message}`));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** One line per forwarded port, with the URL to open for web ports. */
  describeForwards(): string[] {
    return this.#forwards.map((f) => {
      const guest = f.guestAddress ?? formatIpv4(this.guestAddress);
      const host = f.hostAddress === '0.0.0.0' ? '127.0.0.1' : f.hostAddress;
      const url = f.protocol === 'tcp' && (f.guestPort === 80 || f.guestPort === 8080) ? `  http://${host}:${f.boundPort}/` : f.protocol === 'tcp' && f.guestPort === 443 ? `  https://${host}:${f.boundPort}/` : '';
      return `${f.protocol} ${f.hostAddress}:${f.boundPort} -> ${guest}:${f.guestPort}${url}`;
    });
  }
}

/** The user backend as a FramePort for a NIC model (the factory the CLI and tests use). */
export function userNetPort(options: UserNetOptions = {}): UserNetPort {
  return new UserNetPort(options);
}
