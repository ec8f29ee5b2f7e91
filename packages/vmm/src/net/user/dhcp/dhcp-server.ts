import { dhcp, formatMac, IPV4_BROADCAST, type Ipv4Address, type NetStack, type UdpDatagram, type UdpPcb } from '@uk/net';
import type { Addressing } from '../spec/addressing.js';

const { DhcpMessageType, DhcpOp, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, dhcpLength, emitDhcp, parseDhcp } = dhcp;

/** A day, as QEMU's built-in server grants. */
const LEASE_SECONDS = 86_400;

export interface DhcpServerStats {
  discovers: number;
  offers: number;
  requests: number;
  acks: number;
  naks: number;
  releases: number;
  /** Malformed or not for this server. */
  ignored: number;
}

/**
 * The user network's DHCP server (RFC 2131), as QEMU's: each MAC gets an address from
 * dhcpStart on (the first guest 10.0.2.15) and keeps it; the gateway is the router and the
 * forwarder the DNS server. Replies are broadcast, so a client with no address yet hears them.
 */
export class DhcpServer {
  readonly stats: DhcpServerStats = { discovers: 0, offers: 0, requests: 0, acks: 0, naks: 0, releases: 0, ignored: 0 };
  readonly #leases = new Map<string, Ipv4Address>();
  readonly #pcb: UdpPcb;

  constructor(
    stack: NetStack,
    private readonly net: Addressing,
    ifindex: number,
  ) {
    this.#pcb = stack.udp.bind(0, DHCP_SERVER_PORT, (d) => this.#input(d), { ifindex });
  }

  /** The address leased to `mac` ("52:54:00:12:34:56"), if any. */
  leaseOf(mac: string): Ipv4Address | undefined {
    return this.#leases.get(mac.toLowerCase());
  }

  close(): void {
    this.#pcb.close();
  }

  #input(d: UdpDatagram): void {
    const b = d.buf.store;
    const m = parseDhcp(b, d.buf.offset, d.buf.length);
    d.buf.release();
    if (m === undefined || m.op !== DhcpOp.Request || m.chaddr.length < 6 || (m.chaddr[0] & 1) !== 0) {
      this.stats.ignored++;
      return;
    }
    const mac = formatMac(m.chaddr);
    switch (m.messageType) {
      case DhcpMessageType.Discover: {
        this.stats.discovers++;
        const a = this.#allocate(mac);
        if (a === undefined) return;
        this.stats.offers++;
        this.#reply(m, DhcpMessageType.Offer, a);
        return;
      }
      case DhcpMessageType.Request: {
        this.stats.requests++;
        // A REQUEST that names another server is that server's business (RFC 2131 §4.3.2).
        if (m.serverId !== undefined && m.serverId !== this.net.gateway) return;
        const wanted = m.requestedIp ?? m.ciaddr ?? 0;
        const a = this.#allocate(mac);
        if (a === undefined || (wanted !== 0 && wanted !== a)) {
          this.stats.naks++;
          this.#reply(m, DhcpMessageType.Nak, 0);
          return;
        }
        this.stats.acks++;
        this.#reply(m, DhcpMessageType.Ack, a);
        return;
      }
      case DhcpMessageType.Inform:
        this.stats.acks++;
        this.#reply(m, DhcpMessageType.Ack, 0);
        return;
      case DhcpMessageType.Release:
        // The address stays reserved for this MAC, as QEMU keeps it: the guest gets it back.
        this.stats.releases++;
        return;
      default:
        this.stats.ignored++;
    }
  }

  #allocate(mac: string): Ipv4Address | undefined {
    const had = this.#leases.get(mac);
    if (had !== undefined) return had;
    const used = new Set(this.#leases.values());
    for (let i = 0; i < this.net.dhcpCount; i++) {
      const a = (this.net.dhcpStart + i) >>> 0;
      if (!used.has(a)) {
        this.#leases.set(mac, a);
        return a;
      }
    }
    return undefined;
  }

  #reply(req: NonNullable<ReturnType<typeof parseDhcp>>, type: number, yiaddr: Ipv4Address): void {
    const n = this.net;
    const ack = type !== DhcpMessageType.Nak;
    const msg = {
      op: DhcpOp.Reply,
      xid: req.xid,
      flags: req.flags,
      ciaddr: type === DhcpMessageType.Ack && yiaddr === 0 ? req.ciaddr : 0,
      yiaddr,
      siaddr: ack ? n.gateway : 0,
      giaddr: req.giaddr,
      chaddr: req.chaddr.slice(0, 6),
      messageType: type,
      serverId: n.gateway,
      leaseTime: ack && yiaddr !== 0 ? LEASE_SECONDS : undefined,
      renewalTime: ack && yiaddr !== 0 ? LEASE_SECONDS / 2 : undefined,
      rebindingTime: ack && yiaddr !== 0 ? (LEASE_SECONDS * 7) / 8 : undefined,
      subnetMask: ack ? n.mask : undefined,
      routers: ack ? [n.gateway] : undefined,
      dnsServers: ack ? [n.dns] : undefined,
    };
    const bytes = new Uint8Array(dhcpLength(msg));
    emitDhcp(bytes, 0, msg);
    this.#pcb.sendTo(bytes, IPV4_BROADCAST, DHCP_CLIENT_PORT);
  }
}
