import { KernelError } from '@uk/hal';
import type { NetDevice } from '@uk/netdev';
import { type ArpLimits, DEFAULT_ARP_LIMITS } from '../arp/cache.js';
import { DhcpClient, type DhcpOptions } from '../dhcp/client.js';
import { DnsClient, type DnsOptions } from '../dns/client.js';
import { IcmpLayer, type PingOptions } from '../icmp/icmp.js';
import { formatIpv4, type Ipv4Address, parseIpv4 } from '../ip/address.js';
import { DEFAULT_IP_LIMITS, type IpLimits, type IpStats, Ipv4Layer } from '../ip/layer.js';
import { DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits } from '../ip/reassembly.js';
import type { Route } from '../ip/route.js';
import { UdpLayer } from '../udp/udp.js';
import type { NetInterface } from './interface.js';
import { seededRandom } from './random.js';
import { type CoreTimer, TimerQueue } from './timers.js';
import type { IpLayer, Transport } from './transport.js';

export interface NetStackOptions {
  /** The owner's clock, in milliseconds (fractions allowed). Nothing else tells the core the time. */
  readonly now: () => number;
  /** Numbers in [0, 1) for ids, ports and jitter; default a generator seeded from `seed`. */
  readonly random?: () => number;
  /** Seed of the default generator (default: derived from now()). */
  readonly seed?: number;
  readonly limits?: {
    readonly arp?: Partial<ArpLimits>;
    readonly reassembly?: Partial<ReassemblyLimits>;
    readonly txBacklog?: number;
    readonly localQueue?: number;
    readonly icmpErrorsPerSecond?: number;
  };
  readonly dns?: DnsOptions & { readonly servers?: ReadonlyArray<Ipv4Address | string> };
  readonly dhcp?: DhcpOptions;
  /** Told about an exception a transport or handler threw (caught at the stack's edge). */
  readonly onError?: (error: unknown) => void;
}

/** A static address, `{ address: '10.0.2.15/24', gateway: '10.0.2.2' }`, or DHCP. */
export type InterfaceConfig =
  | {
      /** Dotted quad, optionally with /prefix; or a number. */
      readonly address: string | Ipv4Address;
      /** Needed when `address` has no /prefix (default 24). */
      readonly prefix?: number;
      readonly gateway?: string | Ipv4Address;
    }
  | { readonly dhcp: true };

/** Memory the stack holds, for the fuzz tests and for people: every figure here is bounded. */
export interface StackMemory {
  readonly arpEntries: number;
  readonly arpQueued: number;
  readonly reassemblyBytes: number;
  readonly reassemblyDatagrams: number;
  readonly txBacklog: number;
  readonly localQueued: number;
  readonly timers: number;
  readonly udpBound: number;
  readonly dnsCache: number;
  readonly pings: number;
}

/**
 * The TCP/IP core: one instance per network (a kernel has one; the VMM's NAT runs another),
 * no globals, no threads, no timers of its own. Frames come in through the devices'
 * receivers; time moves only when the owner calls poll(), which runs what is due and returns
 * when it wants to be called next. onWake tells the owner that something new may want a
 * poll sooner (a packet queued, a timer armed): drivers such as driveWithHostTimers and the
 * tcpip() component do this bookkeeping.
 */
export class NetStack {
  readonly ip: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly dns: DnsClient;
  readonly timers: TimerQueue;
  readonly now: () => number;
  readonly random: () => number;
  readonly #dhcp = new Map<number, DhcpClient>();
  readonly #opts: NetStackOptions;
  #wake: (() => void) | undefined;
  #wakePending = false;
  #wakeAt = Number.POSITIVE_INFINITY;
  #polling = false;
  #staticDns: boolean;

  constructor(opts: NetStackOptions) {
    this.#opts = opts;
    this.now = opts.now;
    this.random = opts.random ?? seededRandom(opts.seed ?? Math.floor(opts.now() * 1000) ^ 0x5bd1e995);
    const l = opts.limits ?? {};
    const limits: IpLimits = {
      arp: { ...DEFAULT_ARP_LIMITS, ...l.arp },
      reassembly: { ...DEFAULT_REASSEMBLY_LIMITS, ...l.reassembly },
      txBacklog: l.txBacklog ?? DEFAULT_IP_LIMITS.txBacklog,
      localQueue: l.localQueue ?? DEFAULT_IP_LIMITS.localQueue,
      icmpErrorsPerSecond: l.icmpErrorsPerSecond ?? DEFAULT_IP_LIMITS.icmpErrorsPerSecond,
    };
    const timers = new TimerQueue(this.now);
    // Arming a core timer may move the next deadline earlier: tell the owner.
    const at = timers.at.bind(timers);
    timers.at = (time: number, fn: () => void): CoreTimer => {
      const t = at(time, fn);
      this.#requestPoll();
      return t;
    };
    this.timers = timers;
    this.ip = new Ipv4Layer(
      {
        now: this.now,
        random: this.random,
        requestPoll: () => this.#requestPoll(),
        onError: (e) => this.#opts.onError?.(e),
      },
      limits,
    );
    this.icmp = new IcmpLayer(this.ip, this.timers, this.now, this.random);
    this.udp = new UdpLayer(this.ip, this.random);
    this.ip.transports.set(this.icmp.protocol, this.icmp);
    this.ip.transports.set(this.udp.protocol, this.udp);
    this.dns = new DnsClient(this.udp, this.timers, this.now, this.random, opts.dns);
    const servers = (opts.dns?.servers ?? []).map((s) => toAddress(s, 'DNS server'));
    this.dns.servers = servers;
    this.#staticDns = servers.length > 0;
  }

  /** The IP layer as transports see it. */
  get ipLayer(): IpLayer {
    return this.ip;
  }

  get interfaces(): readonly NetInterface[] {
    return this.ip.interfaces;
  }

  get stats(): IpStats {
    return this.ip.stats;
  }

  /**
   * Adds a device; frames it receives go to this stack from now on. Configure it statically,
   * with DHCP, or later (configure()).
   */
  addInterface(device: NetDevice, config?: InterfaceConfig): NetInterface {
    const iface = this.ip.attach(device);
    if (config !== undefined) this.configure(iface.index, config);
    return iface;
  }

  configure(ifindex: number, config: InterfaceConfig): void {
    if ('dhcp' in config) {
      this.#dhcp.get(ifindex)?.stop();
      const client = new DhcpClient(this.ip, this.udp, this.timers, this.now, this.random, ifindex, this.#opts.dhcp);
      client.onChange((_state, lease) => {
        if (!this.#staticDns && lease !== undefined && lease.dns.length > 0) this.dns.servers = [...lease.dns];
      });
      this.#dhcp.set(ifindex, client);
      client.start();
      return;
    }
    let address: Ipv4Address;
    let prefix = config.prefix ?? 24;
    if (typeof config.address === 'string' && config.address.includes('/')) {
      const [a, p] = config.address.split('/');
      address = toAddress(a, 'address');
      prefix = Number(p);
    } else address = toAddress(config.address, 'address');
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new KernelError('EINVAL', `prefix length ${prefix} must be 0..32 (as in 10.0.2.15/24)`);
    const gateway = config.gateway === undefined ? 0 : toAddress(config.gateway, 'gateway');
    this.ip.configure(ifindex, address, prefix, gateway, 'static');
  }

  dhcp(ifindex = 0): DhcpClient | undefined {
    return this.#dhcp.get(ifindex);
  }

  /** Adds a route; `ifindex` defaults to the interface whose subnet holds the gateway. */
  addRoute(r: { dest: Ipv4Address | string; prefix: number; gateway?: Ipv4Address | string; ifindex?: number; metric?: number }): Route {
    const gateway = r.gateway === undefined ? 0 : toAddress(r.gateway, 'gateway');
    let ifindex = r.ifindex;
    if (ifindex === undefined) {
      const i = this.interfaces.find((x) => gateway !== 0 && x.onLink(gateway));
      if (i === undefined) throw new KernelError('ENETUNREACH', `gateway ${formatIpv4(gateway)} is on no interface's network; give ifindex or configure an address first`);
      ifindex = i.index;
    }
    if (this.interfaces[ifindex] === undefined) throw new KernelError('ENODEV', `no interface ${ifindex}`);
    return this.ip.routes.add({ dest: toAddress(r.dest, 'route destination'), prefix: r.prefix, gateway, ifindex, metric: r.metric, origin: 'static' });
  }

  setDefaultGateway(gateway: Ipv4Address | string, ifindex?: number): Route {
    return this.addRoute({ dest: 0, prefix: 0, gateway, ifindex });
  }

  /** Registers a transport (TCP) with IP; EBUSY when its protocol is taken. */
  registerTransport(t: Transport): void {
    if (this.ip.transports.has(t.protocol)) throw new KernelError('EBUSY', `IP protocol ${t.protocol} already has a transport`);
    this.ip.transports.set(t.protocol, t);
    this.#requestPoll();
  }

  transport(protocol: number): Transport | undefined {
    return this.ip.transports.get(protocol);
  }

  /**
   * Runs everything due now — core timers, local deliveries, ARP retries, reassembly
   * timeouts, the transports' timers — and returns the time (ms) it wants to run again
   * (Infinity: only when woken).
   */
  poll(): number {
    if (this.#polling) return this.now();
    this.#polling = true;
    this.#wakePending = false;
    this.#wakeAt = Number.POSITIVE_INFINITY;
    try {
      const now = this.now();
      let next = Number.POSITIVE_INFINITY;
      try {
        next = this.ip.batch(() => this.timers.run(now));
      } catch (e) {
        this.ip.stats.internalErrors++;
        this.#opts.onError?.(e);
        next = now;
      }
      next = Math.min(next, this.ip.poll(now), this.timers.next, this.#wakeAt);
      return next;
    } finally {
      this.#polling = false;
    }
  }

  /**
   * `handler` is called (once until the next poll) when the stack may want a poll earlier
   * than the last poll() said: it should arrange a poll soon, never from inside the call.
   */
  onWake(handler: () => void): void {
    this.#wake = handler;
  }

  /**
   * A transport's deadline moved earlier outside poll (an ACK became due, a retransmission
   * timer started): the stack polls once the current input batch or API call is done, and no
   * later than `deadline`.
   */
  wake(deadline: number): void {
    if (deadline < this.#wakeAt) this.#wakeAt = deadline;
    this.#requestPoll();
  }

  #requestPoll(): void {
    if (this.#wakePending || this.#polling) return;
    this.#wakePending = true;
    this.#wake?.();
  }

  /** An echo request to `dst`; resolves with the round trip in ms. */
  ping(dst: Ipv4Address | string, opts?: PingOptions): Promise<number> {
    return this.icmp.ping(toAddress(dst, 'ping destination'), opts);
  }

  /** A DNS lookup (A records). */
  resolve(name: string): Promise<Ipv4Address[]> {
    return this.dns.resolve(name);
  }

  /** Resolves once some interface has an address (at once if one has). */
  whenConfigured(): Promise<NetInterface> {
    const done = this.interfaces.find((i) => i.configured);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => {
      const l = (i: NetInterface): void => {
        if (!i.configured) return;
        const at = this.ip.addressListeners.indexOf(l);
        if (at >= 0) this.ip.addressListeners.splice(at, 1);
        resolve(i);
      };
      this.ip.addressListeners.push(l);
    });
  }

  memory(): StackMemory {
    let arpEntries = 0;
    let arpQueued = 0;
    let txBacklog = 0;
    for (const i of this.interfaces) {
      arpEntries += i.arp.size;
      arpQueued += i.arp.queued;
      txBacklog += i.backlog.length;
    }
    return {
      arpEntries,
      arpQueued,
      reassemblyBytes: this.ip.reassembly.bytes,
      reassemblyDatagrams: this.ip.reassembly.datagrams,
      txBacklog,
      localQueued: this.ip.localQueued,
      timers: this.timers.size,
      udpBound: this.udp.bound,
      dnsCache: this.dns.cacheSize,
      pings: this.icmp.outstanding,
    };
  }
}

function toAddress(a: Ipv4Address | string, what: string): Ipv4Address {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffff_ffff) throw new KernelError('EINVAL', `${what} ${a} is not an IPv4 address`);
    return a >>> 0;
  }
  const v = parseIpv4(a);
  if (v === undefined) throw new KernelError('EINVAL', `${what} "${a}" is not an IPv4 address like 10.0.2.15`);
  return v;
}

export { toAddress };
