import type { HostResolver } from '../dns/host-resolver.js';
import { addressing, parseNetwork } from './addressing.js';

// Loaded on first use, not imported: a machine that never needs it never pays for loading it.
const netModule = () => process.getBuiltinModule('node:net');

/** One `hostfwd=`: connections (or datagrams) to a host port go to a guest port. */
export interface HostForward {
  readonly protocol: 'tcp' | 'udp';
  /** Host address to listen on (default 127.0.0.1: only this machine can reach the guest). */
  readonly hostAddress: string;
  /** 0 lets the system pick (see UserNetPort.forwards for the port it picked). */
  readonly hostPort: number;
  /** Default: the first address the DHCP server leases (10.0.2.15). */
  readonly guestAddress?: string;
  readonly guestPort: number;
}

/** Resource bounds of one user network; each has a default. */
export interface UserNetLimits {
  /** TCP connections through the NAT at once, both directions (default 4096). */
  readonly tcpConnections: number;
  /** Outbound connections waiting for the host to connect (default 256). */
  readonly pendingConnects: number;
  /** How long a host connection may take before the guest gets RST (ms, default 15000). */
  readonly connectTimeoutMs: number;
  /** UDP flows (guest port ↔ host socket) at once; the idlest is closed for a new one (default 256). */
  readonly udpFlows: number;
  /** A UDP flow with no traffic this long is closed (ms, default 60000). */
  readonly udpIdleMs: number;
  /** DNS questions waiting for the host's resolver at once; more are dropped (default 64). */
  readonly dnsInFlight: number;
  /** Send and receive buffer of each NAT connection in the gateway's TCP (bytes, default 128 KiB). */
  readonly tcpBuffer: number;
}

export const DEFAULT_USER_LIMITS: UserNetLimits = {
  tcpConnections: 4096,
  pendingConnects: 256,
  connectTimeoutMs: 15_000,
  udpFlows: 256,
  udpIdleMs: 60_000,
  dnsInFlight: 64,
  tcpBuffer: 128 * 1024,
};

/** What `--net user,...` says, and what a program may add (a resolver, an address map). */
export interface UserNetOptions {
  /** The guest's network, `10.0.2.0/24` by default (QEMU's). */
  readonly network?: string;
  /** The gateway's address, which also stands for the host's loopback (default .2). */
  readonly host?: string;
  /** The DNS forwarder's address (default .3). */
  readonly dns?: string;
  /** First address the DHCP server leases (default .15). */
  readonly dhcpStart?: string;
  readonly hostForwards?: readonly HostForward[];
  /** Only forwarded ports and the gateway's own services: the guest cannot reach out. */
  readonly restrict?: boolean;
  /** Where names are looked up (default: the host's resolver through node:dns). */
  readonly resolver?: HostResolver;
  /**
   * The host address a guest connection to `address` goes to. Default: the gateway's address
   * means the host's loopback (127.0.0.1), every other address is itself. Tests use it to keep
   * all traffic on the loopback.
   */
  readonly mapAddress?: (address: string) => string;
  readonly limits?: Partial<UserNetLimits>;
  /** Where trouble and notices go (default: the host's stderr). */
  readonly log?: (line: string) => void;
  /**
   * Frames waiting in the guest NIC's receive backlog (from its device model): the link holds
   * frames back while it is high, rather than have the NIC drop them. Without it the link
   * hands over a fixed number of frames per turn of the event loop.
   */
  readonly nicBacklog?: () => number;
}

/** Keys of `--net` that belong to the user backend. */
export const USER_KEYS = new Set(['user', 'hostfwd', 'net', 'host', 'dns', 'dhcpstart', 'restrict']);

export const USER_USAGE = 'user[,hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT][,hostfwd=udp:...][,net=10.0.2.0/24][,host=10.0.2.2][,dns=10.0.2.3][,dhcpstart=10.0.2.15][,restrict=on|off]';

/**
 * Reads the user backend's items of a `--net` value (`user`, `hostfwd=` — which may repeat —
 * `net=`, `host=`, `dns=`, `dhcpstart=`, `restrict=`). `fail` throws with the reason.
 */
export function parseUserItems(items: readonly string[], fail: (why: string) => never): UserNetOptions {
  const hostForwards: HostForward[] = [];
  const seen = new Set<string>();
  const o: { -readonly [K in keyof UserNetOptions]: UserNetOptions[K] } = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    if (key !== 'hostfwd' && seen.has(key)) fail(`${key} is given twice`);
    seen.add(key);
    switch (key) {
      case 'user':
        if (value !== undefined) fail(`user takes no value; write user,hostfwd=... (${USER_USAGE})`);
        break;
      case 'hostfwd':
        hostForwards.push(parseHostForward(value ?? '', fail));
        break;
      case 'net': {
        const n = parseNetwork(value ?? '');
        if (n === undefined) fail(`net=${value ?? ''} is not a network; write net=10.0.2.0/24 (prefix 8 to 30)`);
        o.network = value;
        break;
      }
      case 'host':
      case 'dns':
      case 'dhcpstart':
        if (value === undefined || netModule().isIPv4(value) === false) fail(`${key}=${value ?? ''} is not an IPv4 address, e.g. ${key}=${key === 'host' ? '10.0.2.2' : key === 'dns' ? '10.0.2.3' : '10.0.2.15'}`);
        if (key === 'host') o.host = value;
        else if (key === 'dns') o.dns = value;
        else o.dhcpStart = value;
        break;
      case 'restrict': {
        const v = (value ?? 'on').toLowerCase();
        if (!['on', 'off', 'yes', 'no', 'true', 'false', '1', '0'].includes(v)) fail(`restrict=${value}: write restrict=on or restrict=off`);
        o.restrict = ['on', 'yes', 'true', '1'].includes(v);
        break;
      }
      default:
        fail(`"${item}" is not an option of the user backend; use ${USER_USAGE}`);
    }
  }
  if (hostForwards.length > 0) {
    const taken = new Set<string>();
    for (const f of hostForwards) {
      const k = `${f.protocol}:${f.hostAddress}:${f.hostPort}`;
      if (f.hostPort !== 0 && taken.has(k)) fail(`hostfwd: ${f.protocol} port ${f.hostAddress}:${f.hostPort} is forwarded twice`);
      taken.add(k);
    }
    o.hostForwards = hostForwards;
  }
  try {
    addressing(o);
  } catch (e) {
    fail((e as Error).message);
  }
  return o;
}

/**
 * One QEMU hostfwd rule: `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`, e.g.
 * `tcp::8080-:80` or `tcp:127.0.0.1:8080-10.0.2.15:80`. The protocol defaults to tcp and the
 * host address to 127.0.0.1.
 */
export function parseHostForward(text: string, fail: (why: string) => never): HostForward {
  const example = 'e.g. hostfwd=tcp::8080-:80 or hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80';
  const m = /^(tcp|udp|)?:([^:-]*):(\d{1,5})-([^:]*):(\d{1,5})$/i.exec(text.trim());
  if (m === null) return fail(`hostfwd=${text}: write [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, ${example}`);
  const protocol = (m[1] || 'tcp').toLowerCase() as 'tcp' | 'udp';
  const hostAddress = m[2] === '' ? '127.0.0.1' : m[2];
  const hostPort = Number(m[3]);
  const guestAddress = m[4] === '' ? undefined : m[4];
  const guestPort = Number(m[5]);
  if (netModule().isIPv4(hostAddress) === false) fail(`hostfwd=${text}: host address ${hostAddress} is not an IPv4 address (leave it out for 127.0.0.1)`);
  if (guestAddress !== undefined && netModule().isIPv4(guestAddress) === false) fail(`hostfwd=${text}: guest address ${guestAddress} is not an IPv4 address (leave it out for the DHCP address)`);
  if (hostPort > 65535) fail(`hostfwd=${text}: host port ${hostPort} must be 0 to 65535`);
  if (guestPort < 1 || guestPort > 65535) fail(`hostfwd=${text}: guest port ${guestPort} must be 1 to 65535`);
  return { protocol, hostAddress, hostPort, guestAddress, guestPort };
}
