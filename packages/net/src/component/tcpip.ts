import { type Component, InitLevel, type KernelContext, KernelError, serviceKey, Services } from '@uk/hal';
import { NET_DEVICE, type NetDevice } from '@uk/netdev';
import type { Ipv4Address } from '../ip/address.js';
import type { PingOptions } from '../icmp/icmp.js';
import { Sockets } from '../socket/sockets.js';
import type { UdpSocket, UdpSocketOptions } from '../socket/udp-socket.js';
import { Waiter } from '../socket/waiter.js';
import { driveFromClock } from '../stack/clock-driver.js';
import type { StackDriver } from '../stack/host-driver.js';
import type { NetInterface } from '../stack/interface.js';
import { type InterfaceConfig, NetStack, type NetStackOptions } from '../stack/stack.js';
import { attachExtension, type NetExtension } from './extension.js';

export interface TcpipOptions {
  /** Configure every interface by DHCP. */
  readonly dhcp?: boolean;
  /** A static address for the first interface: '10.0.2.15/24'. */
  readonly address?: string;
  readonly gateway?: string;
  /** DNS servers; with DHCP, the lease's servers are used when this is not given. */
  readonly dns?: readonly string[];
  /** Per-device configuration by device name ('eth1'), overriding the above for that device. */
  readonly interfaces?: Readonly<Record<string, InterfaceConfig>>;
  readonly hostname?: string;
  /** TCP, from the TCP module: `tcpip({ dhcp: true, tcp: tcp() })`. Without it no TCP code is in the image. */
  readonly tcp?: NetExtension;
  /** Other protocol modules. */
  readonly extensions?: readonly NetExtension[];
  /** Limits and protocol options of the core (see NetStackOptions). */
  readonly stack?: Omit<NetStackOptions, 'now'>;
}

/** What the network component provides: `ctx.get(NetKey)`. */
export interface NetService {
  readonly stack: NetStack;
  readonly sockets: Sockets;
  /** Blocks socket calls through the scheduler when one is composed. */
  readonly waiter: Waiter;
  /** Resolves once some interface has an address (DHCP bound, or at once when static). */
  readonly ready: Promise<NetInterface>;
  udp(opts?: UdpSocketOptions): UdpSocket;
  resolve(name: string): Promise<Ipv4Address[]>;
  ping(dst: Ipv4Address | string, opts?: PingOptions): Promise<number>;
  /** The API a protocol module gave ('tcp' for the tcp option), or undefined. */
  extension<T = unknown>(name: string): T | undefined;
}

export const NetKey = serviceKey<NetService>('net', 'tcpip() from @uk/net');


/**
 * The TCP/IP stack as a kernel component (InitLevel.Network). It takes every NetDevice the
 * drivers registered, configures them (DHCP or static), drives the core from the platform
 * clock — through the scheduler's timers when one is composed — and provides {@link NetKey}.
 */
export function tcpip(opts: TcpipOptions = {}): Component {
  return {
    name: 'tcpip',
    level: InitLevel.Network,
    package: '@uk/net',
    requires: [Services.clock],
    provides: [NetKey],
    init(ctx: KernelContext): void {
      const clock = ctx.get(Services.clock);
      const stack = new NetStack({
        ...opts.stack,
        now: () => clock.now() / 1e6,
        // Ids and ports from the boot time: not secret, but not the same on every boot.
        seed: opts.stack?.seed ?? (Math.imul(Math.floor(ctx.cpu.readTime()) | 0, 0x9e3779b1) ^ Math.floor(ctx.cpu.readTime() / 0x1_0000_0000)) >>> 0,
        dns: { ...opts.stack?.dns, servers: opts.dns ?? opts.stack?.dns?.servers },
        dhcp: { hostname: opts.hostname, ...opts.stack?.dhcp },
        onError: (e) => ctx.console.write(`tcpip: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
      });
      const devices = [...ctx.devices<NetDevice>(NET_DEVICE).values()];
      if (devices.length === 0) ctx.console.write('tcpip: no network device; compose a driver such as virtioNet()\n');
      if (opts.address !== undefined && opts.dhcp) throw new KernelError('EINVAL', 'tcpip(): give either dhcp: true or a static address, not both');
      devices.forEach((dev, i) => {
        const own = opts.interfaces?.[dev.name];
        const config: InterfaceConfig | undefined =
          own ?? (opts.dhcp ? { dhcp: true } : i === 0 && opts.address !== undefined ? { address: opts.address, gateway: opts.gateway } : undefined);
        stack.addInterface(dev, config);
      });
      const spawner = ctx.tryGet(Services.scheduler);
      const waiter = new Waiter(spawner);
      const sockets = new Sockets(stack, waiter);
      const extensions = new Map<string, unknown>();
      if (opts.tcp !== undefined) extensions.set('tcp', attachExtension(opts.tcp, stack, sockets));
      for (const ext of opts.extensions ?? []) {
        const name = typeof ext === 'object' && 'name' in ext && typeof ext.name === 'string' ? ext.name : `extension${extensions.size}`;
        extensions.set(name, attachExtension(ext, stack, sockets));
      }
      // With a scheduler composed it owns the clock, and the stack's timers go through it.
      const driver: StackDriver = driveFromClock(stack, clock, ctx.tryGet(Services.timers));
      ctx.onShutdown(() => {
        for (const i of stack.interfaces) stack.dhcp(i.index)?.stop();
        driver.pollNow();
        driver.stop();
      });
      const service: NetService = {
        stack,
        sockets,
        waiter,
        ready: stack.whenConfigured(),
        udp: (o) => sockets.udp(o),
        resolve: (name) => sockets.resolve(name),
        ping: (dst, o) => sockets.ping(dst, o),
        extension: <T>(name: string) => extensions.get(name) as T | undefined,
      };
      ctx.provide(NetKey, service);
    },
  };
}
