import { dhcp, dns, IPV4_ANY, IPV4_BROADCAST, type Ipv4Address, type NetStack, type UdpPcb } from '../../src/index.js';

const { DhcpMessageType, DhcpOp } = dhcp;

export interface DhcpServerOptions {
  /** The one address it hands out. */
  offer: Ipv4Address;
  serverId: Ipv4Address;
  prefix?: number;
  router?: Ipv4Address;
  dns?: Ipv4Address[];
  leaseSecs?: number;
  renewalSecs?: number;
  rebindingSecs?: number;
}

export interface DhcpLogEntry {
  readonly time: number;
  readonly type: number;
  readonly xid: number;
  readonly ciaddr: Ipv4Address;
  readonly requestedIp?: Ipv4Address;
  readonly serverId?: Ipv4Address;
  /** The request was sent to the broadcast address (REBINDING) rather than to us (RENEWING). */
  readonly broadcast: boolean;
}

/**
 * A DHCP server that does what the test says: offers one address, acknowledges requests
 * for it, and can be told to stay silent (`answering = false`, to push a client into
 * REBINDING) or to refuse (`nak = true`). Everything it hears is in `log`.
 */
export class ScriptedDhcpServer {
  answering = true;
  nak = false;
  readonly log: DhcpLogEntry[] = [];
  readonly #pcb: UdpPcb;

  constructor(
    readonly stack: NetStack,
    public opts: DhcpServerOptions,
    ifindex = 0,
  ) {
    this.#pcb = stack.udp.bind(IPV4_ANY, dhcp.DHCP_SERVER_PORT, (d) => {
      const m = dhcp.parseDhcp(d.buf.store, d.buf.offset, d.buf.length);
      d.buf.release();
      if (m === undefined || m.op !== DhcpOp.Request) return;
      this.log.push({ time: stack.now(), type: m.messageType ?? 0, xid: m.xid, ciaddr: m.ciaddr ?? 0, requestedIp: m.requestedIp, serverId: m.serverId, broadcast: d.dst === IPV4_BROADCAST });
      if (!this.answering) return;
      if (m.messageType === DhcpMessageType.Discover) this.#reply(m, DhcpMessageType.Offer);
      else if (m.messageType === DhcpMessageType.Request) {
        if (m.serverId !== undefined && m.serverId !== this.opts.serverId) return; // chose another server
        const wanted = m.requestedIp ?? m.ciaddr;
        this.#reply(m, this.nak || wanted !== this.opts.offer ? DhcpMessageType.Nak : DhcpMessageType.Ack);
      }
    }, { ifindex });
  }

  #reply(req: dhcp.DhcpMessage, type: number): void {
    const o = this.opts;
    const m: dhcp.DhcpMessage = {
      op: DhcpOp.Reply,
      xid: req.xid,
      flags: req.flags,
      ciaddr: req.ciaddr,
      yiaddr: type === DhcpMessageType.Nak ? 0 : o.offer,
      siaddr: o.serverId,
      chaddr: req.chaddr,
      messageType: type,
      serverId: o.serverId,
      ...(type === DhcpMessageType.Nak
        ? {}
        : {
            leaseTime: o.leaseSecs ?? 3600,
            renewalTime: o.renewalSecs,
            rebindingTime: o.rebindingSecs,
            subnetMask: o.prefix === undefined ? 0xffffff00 : (0xffffffff << (32 - o.prefix)) >>> 0,
            routers: o.router === undefined ? undefined : [o.router],
            dnsServers: o.dns,
          }),
    };
    const bytes = new Uint8Array(dhcp.dhcpLength(m));
    dhcp.emitDhcp(bytes, 0, m);
    // A client with an address (renewing) gets a unicast; one without, a broadcast.
    const to = req.ciaddr ? req.ciaddr : IPV4_BROADCAST;
    this.#pcb.sendTo(bytes, to, dhcp.DHCP_CLIENT_PORT);
  }

  close(): void {
    this.#pcb.close();
  }
}

export type DnsAnswer =
  | { addresses: Ipv4Address[]; ttl: number }
  | { cname: string; ttl: number }
  | 'nxdomain'
  | 'servfail';

/**
 * A DNS server answering from a table; `drop` makes it ignore that many queries first (to
 * exercise retries), and `queries` records every query it heard.
 */
export class ScriptedDnsServer {
  readonly records = new Map<string, DnsAnswer>();
  drop = 0;
  readonly queries: Array<{ time: number; name: string; id: number; from: Ipv4Address; port: number }> = [];
  readonly #pcb: UdpPcb;

  constructor(readonly stack: NetStack) {
    this.#pcb = stack.udp.bind(IPV4_ANY, dns.DNS_PORT, (d) => {
      const m = dns.parseDns(d.buf.store, d.buf.offset, d.buf.length);
      d.buf.release();
      if (m === undefined || m.response || m.questions.length !== 1) return;
      const q = m.questions[0];
      this.queries.push({ time: stack.now(), name: q.name, id: m.id, from: d.src, port: d.srcPort });
      if (this.drop > 0) {
        this.drop--;
        return;
      }
      const answers: dns.DnsRecord[] = [];
      let rcode: number = dns.DnsRcode.NoError;
      let name = q.name;
      for (let hops = 0; hops < 8; hops++) {
        const a = this.records.get(name);
        if (a === undefined) {
          if (answers.length === 0) rcode = dns.DnsRcode.NxDomain;
          break;
        }
        if (a === 'nxdomain') rcode = dns.DnsRcode.NxDomain;
        else if (a === 'servfail') rcode = dns.DnsRcode.ServFail;
        else if ('cname' in a) {
          answers.push({ name, type: dns.DnsType.CNAME, class: dns.DNS_CLASS_IN, ttl: a.ttl, target: a.cname });
          name = a.cname;
          continue;
        } else for (const address of a.addresses) answers.push({ name, type: dns.DnsType.A, class: dns.DNS_CLASS_IN, ttl: a.ttl, address });
        break;
      }
      const reply: dns.DnsMessage = { id: m.id, response: true, truncated: false, recursionAvailable: true, rcode, questions: [q], answers };
      const bytes = new Uint8Array(dns.dnsLength(reply));
      dns.emitDns(bytes, 0, reply);
      this.#pcb.sendTo(bytes, d.src, d.srcPort);
    });
  }

  close(): void {
    this.#pcb.close();
  }
}
