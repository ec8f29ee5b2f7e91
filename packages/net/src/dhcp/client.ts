import type { NetBuf } from '@uk/netdev';
import { IPV4_ANY, IPV4_BROADCAST, type Ipv4Address } from '../ip/address.js';
import type { Ipv4Layer } from '../ip/layer.js';
import type { CoreTimer, TimerQueue } from '../stack/timers.js';
import type { UdpLayer, UdpPcb } from '../udp/udp.js';
import { DHCP_CLIENT_PORT, DHCP_FLAG_BROADCAST, DHCP_SERVER_PORT, type DhcpMessage, DhcpMessageType, DhcpOp, DhcpOption, dhcpLength, emitDhcp, parseDhcp } from '../wire/dhcp.js';

/** RFC 2131 §4.4's client states (INIT-REBOOT and REBOOTING are not used: we start afresh). */
export type DhcpState = 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding' | 'stopped';

/** The configuration a lease gives. */
export interface DhcpLease {
  readonly address: Ipv4Address;
  readonly prefix: number;
  readonly gateway: Ipv4Address;
  readonly dns: readonly Ipv4Address[];
  readonly server: Ipv4Address;
  /** Seconds, as granted. */
  readonly leaseTime: number;
  /** ms of the stack's clock. */
  readonly acquiredAt: number;
  readonly t1: number;
  readonly t2: number;
  readonly expires: number;
}

export interface DhcpOptions {
  readonly hostname?: string;
  /** First retransmission delay of DISCOVER/REQUEST (RFC 2131 §4.1: 4 s, doubling to 64 s). */
  readonly initialRetryMs?: number;
  readonly maxRetryMs?: number;
  /** REQUESTs sent in REQUESTING before starting over. */
  readonly maxRequests?: number;
  /** Lower bound of retransmissions in RENEWING and REBINDING (RFC 2131 §4.4.5: 60 s). */
  readonly minRenewRetryMs?: number;
  /** Wait after a NAK before starting over. */
  readonly nakBackoffMs?: number;
}

const PARAMS = [DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DnsServer, DhcpOption.LeaseTime, DhcpOption.RenewalTime, DhcpOption.RebindingTime];
const ORIGIN = 'dhcp';

/**
 * A DHCP client for one interface (RFC 2131): DISCOVER → OFFER → REQUEST → ACK, then renewing
 * with its server at T1, rebinding with any server at T2, and starting over when the lease
 * ends. Retransmissions back off exponentially with a random second of jitter (§4.1).
 */
export class DhcpClient {
  state: DhcpState = 'init';
  lease: DhcpLease | undefined;
  readonly #ip: Ipv4Layer;
  readonly #udp: UdpLayer;
  readonly #timers: TimerQueue;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #ifindex: number;
  readonly #opts: Required<Omit<DhcpOptions, 'hostname'>> & { hostname?: string };
  #pcb: UdpPcb | undefined;
  #timer: CoreTimer | undefined;
  #leaseTimer: CoreTimer | undefined;
  #xid = 0;
  #tries = 0;
  #offer: { address: Ipv4Address; server: Ipv4Address } | undefined;
  #startedAt = 0;
  readonly #listeners: Array<(state: DhcpState, lease: DhcpLease | undefined) => void> = [];
  readonly stats = { discovers: 0, requests: 0, offers: 0, acks: 0, naks: 0, ignored: 0 };

  constructor(ip: Ipv4Layer, udp: UdpLayer, timers: TimerQueue, now: () => number, random: () => number, ifindex: number, opts: DhcpOptions = {}) {
    this.#ip = ip;
    this.#udp = udp;
    this.#timers = timers;
    this.#now = now;
    this.#random = random;
    this.#ifindex = ifindex;
    this.#opts = {
      hostname: opts.hostname,
      initialRetryMs: opts.initialRetryMs ?? 4000,
      maxRetryMs: opts.maxRetryMs ?? 64_000,
      maxRequests: opts.maxRequests ?? 4,
      minRenewRetryMs: opts.minRenewRetryMs ?? 60_000,
      nakBackoffMs: opts.nakBackoffMs ?? 1000,
    };
  }

  /** Hears every state change. */
  onChange(listener: (state: DhcpState, lease: DhcpLease | undefined) => void): void {
    this.#listeners.push(listener);
  }

  start(): void {
    if (this.#pcb === undefined) this.#pcb = this.#udp.bind(IPV4_ANY, DHCP_CLIENT_PORT, (d) => this.#input(d.buf, d.src), { ifindex: this.#ifindex });
    this.#init();
  }

  /** Gives the lease back (DHCPRELEASE) and stops. */
  stop(): void {
    if (this.lease !== undefined && (this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding')) {
      this.#send(DhcpMessageType.Release, this.lease.server, { ciaddr: this.lease.address, serverId: this.lease.server });
    }
    this.#drop();
    this.#timer?.cancel();
    this.#pcb?.close();
    this.#pcb = undefined;
    this.#set('stopped');
  }

  #set(state: DhcpState): void {
    this.state = state;
    for (const l of this.#listeners) l(state, this.lease);
  }

  #init(): void {
    this.#drop();
    this.#xid = (Math.floor(this.#random() * 0x1_0000_0000) >>> 0) || 1;
    this.#tries = 0;
    this.#offer = undefined;
    this.#startedAt = this.#now();
    this.#set('selecting');
    this.#discover();
  }

  /** Loses the address and its routes. */
  #drop(): void {
    this.#leaseTimer?.cancel();
    this.#leaseTimer = undefined;
    if (this.lease !== undefined) {
      this.lease = undefined;
      this.#ip.deconfigure(this.#ifindex, ORIGIN);
    }
  }

  #backoff(): number {
    const base = Math.min(this.#opts.initialRetryMs * 2 ** this.#tries, this.#opts.maxRetryMs);
    this.#tries++;
    return Math.max(0, base + (this.#random() * 2 - 1) * 1000);
  }

  #arm(ms: number, fn: () => void): void {
    this.#timer?.cancel();
    this.#timer = this.#timers.after(ms, fn);
  }

  #discover(): void {
    this.stats.discovers++;
    this.#send(DhcpMessageType.Discover, IPV4_BROADCAST, {});
    this.#arm(this.#backoff(), () => this.#discover());
  }

  #request(): void {
    if (this.#tries >= this.#opts.maxRequests) {
      this.#init();
      return;
    }
    const o = this.#offer;
    if (o === undefined) return;
    this.stats.requests++;
    this.#send(DhcpMessageType.Request, IPV4_BROADCAST, { requestedIp: o.address, serverId: o.server });
    this.#arm(this.#backoff(), () => this.#request());
  }

  /** RENEWING and REBINDING: send, then again after half the time left until `until`, at least minRenewRetryMs. */
  #renew(until: number): void {
    const lease = this.lease;
    if (lease === undefined) return;
    this.stats.requests++;
    const unicast = this.state === 'renewing';
    this.#send(DhcpMessageType.Request, unicast ? lease.server : IPV4_BROADCAST, { ciaddr: lease.address });
    const left = until - this.#now();
    const wait = Math.max(left / 2, this.#opts.minRenewRetryMs);
    if (wait < left) this.#arm(wait, () => this.#renew(until));
  }

  #send(type: number, dst: Ipv4Address, fields: Partial<DhcpMessage>): void {
    const pcb = this.#pcb;
    if (pcb === undefined) return;
    const iface = this.#ip.interfaces[this.#ifindex];
    if (iface === undefined) return;
    const secs = Math.min(0xffff, Math.floor((this.#now() - this.#startedAt) / 1000));
    const m: DhcpMessage = {
      op: DhcpOp.Request,
      xid: this.#xid,
      secs,
      flags: fields.ciaddr ? 0 : DHCP_FLAG_BROADCAST,
      chaddr: iface.mac,
      messageType: type,
      hostname: this.#opts.hostname,
      parameterRequestList: type === DhcpMessageType.Release ? undefined : PARAMS,
      ...fields,
    };
    const len = dhcpLength(m);
    const buf = this.#udp.allocBuf(dst, len, this.#ifindex);
    if (buf === null) return;
    emitDhcp(buf.store, buf.offset, m);
    pcb.sendBuf(buf, dst, DHCP_SERVER_PORT);
  }

  #input(buf: NetBuf, _src: Ipv4Address): void {
    const m = parseDhcp(buf.store, buf.offset, buf.length);
    buf.release();
    const iface = this.#ip.interfaces[this.#ifindex];
    if (m === undefined || iface === undefined || m.op !== DhcpOp.Reply || m.xid !== this.#xid || !sameMac(m.chaddr, iface.mac)) {
      this.stats.ignored++;
      return;
    }
    const now = this.#now();
    switch (m.messageType) {
      case DhcpMessageType.Offer:
        if (this.state !== 'selecting' || m.yiaddr === undefined || m.yiaddr === 0 || m.serverId === undefined) return;
        this.stats.offers++;
        this.#offer = { address: m.yiaddr, server: m.serverId };
        this.#tries = 0;
        this.#set('requesting');
        this.#request();
        return;
      case DhcpMessageType.Ack: {
        if (this.state !== 'requesting' && this.state !== 'renewing' && this.state !== 'rebinding') return;
        if (m.yiaddr === undefined || m.yiaddr === 0) return;
        if (this.state === 'requesting' && m.serverId !== undefined && m.serverId !== this.#offer?.server) return;
        this.stats.acks++;
        this.#bind(m, now);
        return;
      }
      case DhcpMessageType.Nak:
        if (this.state !== 'requesting' && this.state !== 'renewing' && this.state !== 'rebinding') return;
        this.stats.naks++;
        this.#drop();
        this.#timer?.cancel();
        this.#set('init');
        this.#arm(this.#opts.nakBackoffMs, () => this.#init());
        return;
      default:
        this.stats.ignored++;
    }
  }

  #bind(m: DhcpMessage, now: number): void {
    const leaseSecs = m.leaseTime ?? 3600;
    const infinite = leaseSecs === 0xffff_ffff;
    const ms = infinite ? Number.POSITIVE_INFINITY : leaseSecs * 1000;
    let t1 = m.renewalTime !== undefined ? m.renewalTime * 1000 : ms * 0.5;
    let t2 = m.rebindingTime !== undefined ? m.rebindingTime * 1000 : ms * 0.875;
    // Keep 0 < T1 < T2 < lease whatever the server said.
    if (!(t2 > 0 && t2 <= ms)) t2 = ms * 0.875;
    if (!(t1 > 0 && t1 <= t2)) t1 = Math.min(ms * 0.5, t2);
    const server = m.serverId ?? this.lease?.server ?? this.#offer?.server ?? 0;
    const mask = m.subnetMask ?? classfulMask(m.yiaddr ?? 0);
    const lease: DhcpLease = {
      address: m.yiaddr ?? 0,
      prefix: maskToPrefix(mask),
      gateway: m.routers?.[0] ?? 0,
      dns: m.dnsServers ?? [],
      server,
      leaseTime: leaseSecs,
      acquiredAt: now,
      t1: now + t1,
      t2: now + t2,
      expires: now + ms,
    };
    const changed = this.lease === undefined || this.lease.address !== lease.address || this.lease.prefix !== lease.prefix || this.lease.gateway !== lease.gateway;
    this.lease = lease;
    if (changed) this.#ip.configure(this.#ifindex, lease.address, lease.prefix, lease.gateway, ORIGIN);
    this.#timer?.cancel();
    this.#leaseTimer?.cancel();
    this.#set('bound');
    if (infinite) return;
    this.#arm(t1, () => {
      this.#set('renewing');
      this.#renew(lease.t2);
    });
    this.#leaseTimer = this.#timers.at(lease.t2, () => {
      this.#set('rebinding');
      this.#timer?.cancel();
      this.#renew(lease.expires);
      this.#leaseTimer = this.#timers.at(lease.expires, () => {
        this.#leaseTimer = undefined;
        this.#timer?.cancel();
        this.#init();
      });
    });
  }
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

function maskToPrefix(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && ((mask >>> bit) & 1) === 1; bit--) n++;
  return n;
}

function classfulMask(a: Ipv4Address): number {
  const first = a >>> 24;
  if (first < 128) return 0xff00_0000;
  if (first < 192) return 0xffff_0000;
  return 0xffff_ff00;
}
