import { parseMac } from '../mac.js';
import type { ImpairmentOptions } from '../switch/link-impairment.js';
import type { HostPort } from '../udp/udp-port.js';
// The user backend reads its own options (hostfwd= may repeat): see ../user/spec/user-options.ts.
import { parseUserItems, USER_KEYS, USER_USAGE, type UserNetOptions } from '../user/spec/user-options.js';

// Loaded on first use, not imported: a machine that never needs it never pays for loading it.
const netModule = () => process.getBuiltinModule('node:net');

/** A `--net` value that cannot be used; the message is one line that says what to write instead. */
export class NetSpecError extends Error {
  constructor(
    readonly spec: string,
    message: string,
  ) {
    super(message);
    this.name = 'NetSpecError';
  }
}

export type NetLinkSpec =
  | { readonly kind: 'udp'; readonly remote: HostPort; readonly local?: HostPort }
  | { readonly kind: 'switch'; readonly name: string; readonly impairment: ImpairmentOptions }
  | { readonly kind: 'user'; readonly options: UserNetOptions };

/** One NIC: where its frames go, and how it looks. */
export interface NetSpec {
  readonly link: NetLinkSpec;
  /** Default: 52:54:00:12:34:56 plus the slot number. */
  readonly mac?: Uint8Array;
  /** Capture both directions to this file (pcap, Ethernet). */
  readonly pcap?: string;
  /** The MTU the device offers (VIRTIO_NET_F_MTU); default 1500. */
  readonly mtu?: number;
}

const USAGE = `udp=HOST:PORT[,localaddr=HOST:PORT] or switch[=NAME][,loss=P,dup=P,reorder=P,delay=TIME,seed=N] or ${USER_USAGE}, each with optional mac=XX:XX:XX:XX:XX:XX, pcap=FILE, mtu=N`;
const SWITCH_OPTIONS = new Set(['loss', 'dup', 'reorder', 'delay', 'seed']);

/**
 * Parses one `--net` value:
 *
 *   udp=HOST:PORT[,localaddr=HOST:PORT]     one frame per datagram (QEMU's -netdev socket,udp=)
 *   switch[=NAME][,loss=P][,dup=P][,reorder=P][,delay=TIME][,seed=N]
 *                                           the in-process learning switch NAME (default "default")
 *   ...,mac=52:54:00:12:34:56  ...,pcap=FILE  ...,mtu=1500
 *
 *   user[,hostfwd=tcp::8080-:80]...       NAT, DHCP, DNS and port forwarding (QEMU's -netdev user);
 *                                           the backend when none is named
 */
export function parseNetSpec(spec: string): NetSpec {
  const fail = (why: string): never => {
    throw new NetSpecError(spec, `--net ${spec || '""'}: ${why}`);
  };
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) fail(`empty; use ${USAGE}`);
  const seen = new Set<string>();
  const userItems = items.filter((i) => USER_KEYS.has((i.includes('=') ? i.slice(0, i.indexOf('=')) : i).toLowerCase()));
  let link: NetLinkSpec | undefined = userItems.length > 0 ? { kind: 'user', options: parseUserItems(userItems, fail) } : undefined;
  let local: HostPort | undefined;
  let mac: Uint8Array | undefined;
  let pcap: string | undefined;
  let mtu: number | undefined;
  const impairment: { -readonly [K in keyof ImpairmentOptions]: ImpairmentOptions[K] } = {};
  for (const item of items) {
    if (userItems.includes(item)) continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    if (seen.has(key)) fail(`${key} is given twice`);
    seen.add(key);
    switch (key) {
      case 'udp':
        if (link !== undefined) fail(`two backends (${link.kind} and udp); give one per --net`);
        if (value === undefined || value === '') fail('udp needs the address frames go to: udp=HOST:PORT');
        link = { kind: 'udp', remote: parseHostPort(value as string, 'udp', fail, false) };
        break;
      case 'switch': {
        if (link !== undefined) fail(`two backends (${link.kind} and switch); give one per --net`);
        const name = value ?? 'default';
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) fail(`switch name "${name}" may hold letters, digits, '.', '_' and '-' only (at most 64)`);
        link = { kind: 'switch', name, impairment };
        break;
      }
      case 'localaddr':
        if (value === undefined || value === '') fail('localaddr needs HOST:PORT');
        local = parseHostPort(value as string, 'localaddr', fail, true);
        break;
      case 'mac': {
        const m = value === undefined ? null : parseMac(value);
        if (m === null) fail(`mac=${value ?? ''} is not a MAC address; write six hex bytes, e.g. mac=52:54:00:12:34:56`);
        else if (m[0] & 1) fail(`mac=${value} is a group (multicast) address; the first byte must be even, e.g. 52:...`);
        mac = m as Uint8Array;
        break;
      }
      case 'pcap':
        if (value === undefined || value === '') fail('pcap needs a file: pcap=FILE');
        pcap = value;
        break;
      case 'mtu': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 68 || n > 65535) fail(`mtu=${value ?? ''} must be a whole number from 68 to 65535`);
        mtu = n;
        break;
      }
      case 'loss':
      case 'dup':
      case 'reorder':
        impairment[key] = parseProbability(value, key, fail);
        break;
      case 'delay':
        impairment.delayNs = parseDuration(value, fail);
        break;
      case 'seed': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) fail(`seed=${value ?? ''} must be a whole number from 0 to 4294967295`);
        impairment.seed = n;
        break;
      }
      default:
        fail(`unknown option "${item}"; use ${USAGE}`);
    }
  }
  link ??= { kind: 'user', options: {} };
  if (local !== undefined && link.kind !== 'udp') fail(`localaddr= goes with udp=, not with ${link.kind}`);
  if (link.kind !== 'switch') for (const k of SWITCH_OPTIONS) if (seen.has(k)) fail(`${k}= goes with switch, not with ${link.kind}`);
  if (link.kind === 'udp' && local !== undefined) link = { ...link, local };
  return { link, mac, pcap, mtu };
}

function parseHostPort(text: string, what: string, fail: (why: string) => never, local: boolean): HostPort {
  let host: string;
  let port: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return fail(`${what}=${text}: write an IPv6 address as [ADDR]:PORT`);
    host = text.slice(1, close);
    port = text.slice(close + 2);
    if (netModule().isIPv6(host) === false) return fail(`${what}=${text}: ${host} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return fail(`${what}=${text}: give HOST:PORT, e.g. ${what}=127.0.0.1:5555`);
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (host.includes(':')) return fail(`${what}=${text}: write an IPv6 address as [ADDR]:PORT`);
  }
  const p = Number(port);
  if (!/^\d+$/.test(port) || p > 65535 || (p === 0 && !local)) return fail(`${what}=${text}: port ${port || '(none)'} must be a number from ${local ? 0 : 1} to 65535`);
  if (host === '' && !local) return fail(`${what}=${text}: give the host too, e.g. ${what}=127.0.0.1:${port}`);
  return { host, port: p };
}

function parseProbability(value: string | undefined, key: string, fail: (why: string) => never): number {
  const v = (value ?? '').trim();
  const pct = v.endsWith('%');
  const n = Number(pct ? v.slice(0, -1) : v);
  const p = pct ? n / 100 : n;
  if (v === '' || !Number.isFinite(p) || p < 0 || p > 1) return fail(`${key}=${value ?? ''} must be a probability from 0 to 1 (or a percentage, e.g. ${key}=5%)`);
  return p;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

function parseDuration(value: string | undefined, fail: (why: string) => never): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?$/.exec((value ?? '').trim());
  const ns = m === null ? Number.NaN : Number(m[1]) * UNIT_NS[m[2] ?? 'ms'];
  if (!Number.isFinite(ns) || ns > 60e9) return fail(`delay=${value ?? ''} must be a time up to 60 s, e.g. delay=1ms, delay=500us (a bare number is milliseconds)`);
  return ns;
}
