import { formatIpv4, type Ipv4Address, parseIpv4, prefixMask } from '@uk/net/address';
import type { UserNetOptions } from './user-options.js';

/** The addresses of a user network, checked and as numbers. */
export interface Addressing {
  readonly network: Ipv4Address;
  readonly prefix: number;
  readonly mask: number;
  readonly broadcast: Ipv4Address;
  /** The gateway: answers ARP and ping, serves DHCP, and stands for the host's loopback. */
  readonly gateway: Ipv4Address;
  readonly dns: Ipv4Address;
  readonly dhcpStart: Ipv4Address;
  /** Addresses the DHCP server hands out, from dhcpStart on. */
  readonly dhcpCount: number;
}

/** Thrown for options whose addresses do not fit together. */
export class UserNetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserNetError';
  }
}

/** QEMU's defaults: 10.0.2.0/24, gateway .2, DNS .3, leases from .15. */
export function addressing(o: UserNetOptions): Addressing {
  const n = parseNetwork(o.network ?? '10.0.2.0/24');
  if (n === undefined) throw new UserNetError(`user network ${o.network}: not a network like 10.0.2.0/24`);
  const mask = prefixMask(n.prefix);
  const network = ((parseIpv4(n.address) as number) & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const at = (text: string | undefined, host: number, what: string): Ipv4Address => {
    const a = text === undefined ? (network + host) >>> 0 : parseIpv4(text);
    if (a === undefined) throw new UserNetError(`user network: ${what} ${text} is not an IPv4 address`);
    if (((a & mask) >>> 0) !== network || a === network || a === broadcast) {
      throw new UserNetError(`user network: ${what} ${formatIpv4(a)} is not a host address of ${formatIpv4(network)}/${n.prefix}`);
    }
    return a;
  };
  const gateway = at(o.host, 2, 'host');
  const dns = at(o.dns, 3, 'dns');
  const dhcpStart = at(o.dhcpStart, 15, 'dhcpstart');
  if (dns === gateway) throw new UserNetError('user network: dns and host must be different addresses');
  const dhcpCount = Math.max(1, Math.min(16, broadcast - dhcpStart));
  for (let i = 0; i < dhcpCount; i++) {
    const a = dhcpStart + i;
    if (a === gateway || a === dns) throw new UserNetError(`user network: the DHCP range from ${formatIpv4(dhcpStart)} (16 addresses) holds ${formatIpv4(a)}, which the gateway or DNS uses; move dhcpstart`);
  }
  return { network, prefix: n.prefix, mask, broadcast, gateway, dns, dhcpStart, dhcpCount };
}

/** `10.0.2.0/24` as address and prefix; undefined when it is not one. */
export function parseNetwork(text: string): { address: string; prefix: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (m === null || parseIpv4(m[1]) === undefined) return undefined;
  const prefix = m[2] === undefined ? 24 : Number(m[2]);
  if (prefix < 8 || prefix > 30) return undefined;
  return { address: m[1], prefix };
}
