import type { Ipv4Address } from '../ip/address.js';
import { readIpv4, writeIpv4 } from '../ip/address.js';
import type { MacAddress } from './ethernet.js';

/** DHCP messages (RFC 2131) and the options of RFC 2132 that a client needs. */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** The fixed BOOTP part, before the magic cookie. */
export const DHCP_FIXED_LEN = 236;
const MAGIC = 0x63825363;

export const DhcpOp = { Request: 1, Reply: 2 } as const;

export const DhcpMessageType = { Discover: 1, Offer: 2, Request: 3, Decline: 4, Ack: 5, Nak: 6, Release: 7, Inform: 8 } as const;

export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DnsServer: 6,
  HostName: 12,
  RequestedIp: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientId: 61,
  End: 255,
} as const;

/** The broadcast bit of `flags`: asks the server to broadcast its replies (a client with no address yet). */
export const DHCP_FLAG_BROADCAST = 0x8000;

export interface DhcpMessage {
  readonly op: number;
  readonly xid: number;
  readonly secs?: number;
  readonly flags?: number;
  readonly ciaddr?: Ipv4Address;
  readonly yiaddr?: Ipv4Address;
  readonly siaddr?: Ipv4Address;
  readonly giaddr?: Ipv4Address;
  readonly chaddr: MacAddress;
  readonly messageType?: number;
  readonly serverId?: Ipv4Address;
  readonly requestedIp?: Ipv4Address;
  /** Seconds; 0xffffffff is infinite. */
  readonly leaseTime?: number;
  readonly renewalTime?: number;
  readonly rebindingTime?: number;
  readonly subnetMask?: Ipv4Address;
  readonly routers?: readonly Ipv4Address[];
  readonly dnsServers?: readonly Ipv4Address[];
  readonly hostname?: string;
  readonly parameterRequestList?: readonly number[];
}

/**
 * Reads a message of `length` bytes at `off`; undefined when it is not a well-formed
 * Ethernet DHCP message (short, wrong cookie, an option running past the end). Unknown
 * options are skipped; malformed known ones are ignored.
 */
export function parseDhcp(b: Uint8Array, off: number, length: number): DhcpMessage | undefined {
  if (length < DHCP_FIXED_LEN + 4) return undefined;
  if (b[off + 1] !== 1 || b[off + 2] !== 6) return undefined;
  if (readIpv4(b, off + DHCP_FIXED_LEN) !== MAGIC) return undefined;
  const m: {
    -readonly [K in keyof DhcpMessage]: DhcpMessage[K];
  } = {
    op: b[off],
    xid: readIpv4(b, off + 4),
    secs: (b[off + 8] << 8) | b[off + 9],
    flags: (b[off + 10] << 8) | b[off + 11],
    ciaddr: readIpv4(b, off + 12),
    yiaddr: readIpv4(b, off + 16),
    siaddr: readIpv4(b, off + 20),
    giaddr: readIpv4(b, off + 24),
    chaddr: b.slice(off + 28, off + 34),
  };
  let i = off + DHCP_FIXED_LEN + 4;
  const end = off + length;
  while (i < end) {
    const code = b[i++];
    if (code === DhcpOption.Pad) continue;
    if (code === DhcpOption.End) break;
    if (i >= end) return undefined;
    const len = b[i++];
    if (i + len > end) return undefined;
    const v = i;
    i += len;
    const u32 = len === 4 ? readIpv4(b, v) : undefined;
    switch (code) {
      case DhcpOption.MessageType:
        if (len === 1) m.messageType = b[v];
        break;
      case DhcpOption.ServerId:
        m.serverId = u32;
        break;
      case DhcpOption.RequestedIp:
        m.requestedIp = u32;
        break;
      case DhcpOption.LeaseTime:
        m.leaseTime = u32;
        break;
      case DhcpOption.RenewalTime:
        m.renewalTime = u32;
        break;
      case DhcpOption.RebindingTime:
        m.rebindingTime = u32;
        break;
      case DhcpOption.SubnetMask:
        m.subnetMask = u32;
        break;
      case DhcpOption.Router:
        m.routers = addressList(b, v, len);
        break;
      case DhcpOption.DnsServer:
        m.dnsServers = addressList(b, v, len);
        break;
      case DhcpOption.HostName:
        m.hostname = String.fromCharCode(...b.subarray(v, v + len));
        break;
      case DhcpOption.ParameterRequestList:
        m.parameterRequestList = [...b.subarray(v, v + len)];
        break;
    }
  }
  return m;
}

function addressList(b: Uint8Array, at: number, len: number): Ipv4Address[] {
  const out: Ipv4Address[] = [];
  for (let k = 0; k + 4 <= len; k += 4) out.push(readIpv4(b, at + k));
  return out;
}

/** Bytes `emitDhcp` writes for `m` (at least the 300 of a BOOTP message, as some servers require). */
export function dhcpLength(m: DhcpMessage): number {
  let n = DHCP_FIXED_LEN + 4 + 1; // cookie, End
  if (m.messageType !== undefined) n += 3;
  for (const v of [m.serverId, m.requestedIp, m.leaseTime, m.renewalTime, m.rebindingTime, m.subnetMask]) if (v !== undefined) n += 6;
  if (m.routers?.length) n += 2 + 4 * Math.min(m.routers.length, 63);
  if (m.dnsServers?.length) n += 2 + 4 * Math.min(m.dnsServers.length, 63);
  if (m.hostname !== undefined) n += 2 + Math.min(m.hostname.length, 255);
  if (m.parameterRequestList?.length) n += 2 + Math.min(m.parameterRequestList.length, 255);
  return Math.max(n, 300);
}

/** Writes `m` at `off` (dhcpLength(m) bytes, zero padded); returns that length. */
export function emitDhcp(b: Uint8Array, off: number, m: DhcpMessage): number {
  const total = dhcpLength(m);
  b.fill(0, off, off + total);
  b[off] = m.op;
  b[off + 1] = 1;
  b[off + 2] = 6;
  writeIpv4(b, off + 4, m.xid >>> 0);
  b[off + 8] = ((m.secs ?? 0) >> 8) & 255;
  b[off + 9] = (m.secs ?? 0) & 255;
  b[off + 10] = ((m.flags ?? 0) >> 8) & 255;
  b[off + 11] = (m.flags ?? 0) & 255;
  writeIpv4(b, off + 12, m.ciaddr ?? 0);
  writeIpv4(b, off + 16, m.yiaddr ?? 0);
  writeIpv4(b, off + 20, m.siaddr ?? 0);
  writeIpv4(b, off + 24, m.giaddr ?? 0);
  b.set(m.chaddr.subarray(0, 6), off + 28);
  writeIpv4(b, off + DHCP_FIXED_LEN, MAGIC);
  let i = off + DHCP_FIXED_LEN + 4;
  const opt = (code: number, bytes: ArrayLike<number>): void => {
    b[i++] = code;
    b[i++] = bytes.length;
    for (let k = 0; k < bytes.length; k++) b[i++] = bytes[k];
  };
  const addr = (code: number, a: number | undefined): void => {
    if (a === undefined) return;
    b[i++] = code;
    b[i++] = 4;
    writeIpv4(b, i, a >>> 0);
    i += 4;
  };
  const list = (code: number, l: readonly number[] | undefined): void => {
    if (!l?.length) return;
    const n = Math.min(l.length, 63);
    b[i++] = code;
    b[i++] = n * 4;
    for (let k = 0; k < n; k++, i += 4) writeIpv4(b, i, l[k] >>> 0);
  };
  if (m.messageType !== undefined) opt(DhcpOption.MessageType, [m.messageType]);
  addr(DhcpOption.ServerId, m.serverId);
  addr(DhcpOption.RequestedIp, m.requestedIp);
  addr(DhcpOption.LeaseTime, m.leaseTime);
  addr(DhcpOption.RenewalTime, m.renewalTime);
  addr(DhcpOption.RebindingTime, m.rebindingTime);
  addr(DhcpOption.SubnetMask, m.subnetMask);
  list(DhcpOption.Router, m.routers);
  list(DhcpOption.DnsServer, m.dnsServers);
  if (m.hostname !== undefined) {
    const s = m.hostname.slice(0, 255);
    opt(DhcpOption.HostName, Array.from(s, (c) => c.charCodeAt(0) & 255));
  }
  if (m.parameterRequestList?.length) opt(DhcpOption.ParameterRequestList, m.parameterRequestList.slice(0, 255));
  b[i] = DhcpOption.End;
  return total;
}
