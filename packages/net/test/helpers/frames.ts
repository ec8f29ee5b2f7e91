import { arp, dhcp, dns, ethernet, icmp, type Ipv4Address, ipv4, readIpv4, udp } from '../../src/index.js';

/** Builders and parsers of whole frames for packet-level tests, written with the wire modules. */

export const BROADCAST = Uint8Array.of(255, 255, 255, 255, 255, 255);

export function ip(text: string): Ipv4Address {
  const parts = text.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function arpFrame(op: number, srcMac: Uint8Array, srcIp: Ipv4Address, dstMac: Uint8Array, dstIp: Ipv4Address, ethDst = op === arp.ArpOp.Request ? BROADCAST : dstMac): Uint8Array {
  const f = new Uint8Array(42);
  ethernet.emitEthernet(f, 0, ethDst, srcMac, ethernet.EtherType.ARP);
  arp.emitArp(f, 14, { op, sha: srcMac, spa: srcIp, tha: dstMac, tpa: dstIp });
  return f;
}

export interface IpFrameOptions {
  ttl?: number;
  id?: number;
  moreFragments?: boolean;
  fragmentOffset?: number;
  dontFragment?: boolean;
  /** Bytes of IPv4 options to insert (NOPs). */
  optionBytes?: number;
}

/** An Ethernet frame carrying an IPv4 packet with `payload` (already a transport message). */
export function ipFrame(dstMac: Uint8Array, srcMac: Uint8Array, src: Ipv4Address, dst: Ipv4Address, protocol: number, payload: Uint8Array, o: IpFrameOptions = {}): Uint8Array {
  const opt = o.optionBytes ?? 0;
  const f = new Uint8Array(14 + 20 + opt + payload.length);
  ethernet.emitEthernet(f, 0, dstMac, srcMac, ethernet.EtherType.IPv4);
  ipv4.emitIpv4(f, 14, { src, dst, protocol, payloadLength: payload.length + opt, ttl: o.ttl, id: o.id, moreFragments: o.moreFragments, fragmentOffset: o.fragmentOffset, dontFragment: o.dontFragment });
  if (opt > 0) {
    // Move the header's fixed part into place with options after it and fix IHL + checksum.
    f[14] = 0x40 | ((20 + opt) / 4);
    f.fill(1, 34, 34 + opt);
    f[24] = 0;
    f[25] = 0;
    let sum = 0;
    for (let i = 14; i < 34 + opt; i += 2) sum += (f[i] << 8) | f[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    f[24] = c >> 8;
    f[25] = c & 255;
  }
  f.set(payload, 34 + opt);
  return f;
}

export function udpPayload(src: Ipv4Address, dst: Ipv4Address, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b.set(data, 8);
  udp.emitUdp(b, 0, srcPort, dstPort, data.length, src, dst, true);
  return b;
}

export function echoPayload(type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b.set(data, 8);
  icmp.emitIcmpEcho(b, 0, b.length, type, id, seq);
  return b;
}

export function dhcpPayload(m: dhcp.DhcpMessage): Uint8Array {
  const b = new Uint8Array(dhcp.dhcpLength(m));
  dhcp.emitDhcp(b, 0, m);
  return b;
}

export function dnsPayload(m: dns.DnsMessage): Uint8Array {
  const b = new Uint8Array(dns.dnsLength(m));
  dns.emitDns(b, 0, m);
  return b;
}

/** A frame taken apart, for expectations. */
export interface ParsedFrame {
  dst: string;
  src: string;
  type: number;
  arp?: { op: number; sha: string; spa: Ipv4Address; tha: string; tpa: Ipv4Address };
  ip?: { src: Ipv4Address; dst: Ipv4Address; protocol: number; ttl: number; id: number; more: boolean; fragmentOffset: number; dontFragment: boolean; payload: Uint8Array };
  udp?: { srcPort: number; dstPort: number; data: Uint8Array; checksumOk: boolean };
  icmp?: { type: number; code: number; id: number; seq: number; data: Uint8Array; ok: boolean };
}

export function parseFrame(f: Uint8Array): ParsedFrame {
  const out: ParsedFrame = { dst: ethernet.formatMac(f, 0), src: ethernet.formatMac(f, 6), type: ethernet.ethType(f, 0) };
  if (out.type === ethernet.EtherType.ARP && arp.checkArp(f, 14, f.length - 14)) {
    out.arp = { op: arp.arpOp(f, 14), sha: ethernet.formatMac(arp.arpSha(f, 14)), spa: arp.arpSpa(f, 14), tha: ethernet.formatMac(arp.arpTha(f, 14)), tpa: arp.arpTpa(f, 14) };
  }
  if (out.type === ethernet.EtherType.IPv4) {
    const check = ipv4.checkIpv4(f, 14, f.length - 14);
    if (check !== 'ok') throw new Error(`the stack sent a bad IPv4 packet: ${check}`);
    const hl = ipv4.ipv4HeaderLength(f, 14);
    const total = ipv4.ipv4TotalLength(f, 14);
    const payload = f.slice(14 + hl, 14 + total);
    out.ip = {
      src: ipv4.ipv4Src(f, 14),
      dst: ipv4.ipv4Dst(f, 14),
      protocol: ipv4.ipv4Protocol(f, 14),
      ttl: ipv4.ipv4Ttl(f, 14),
      id: ipv4.ipv4Id(f, 14),
      more: ipv4.ipv4MoreFragments(f, 14),
      fragmentOffset: ipv4.ipv4FragmentOffset(f, 14),
      dontFragment: ipv4.ipv4DontFragment(f, 14),
      payload,
    };
    if (out.ip.protocol === 17 && !out.ip.more && out.ip.fragmentOffset === 0 && payload.length >= 8) {
      out.udp = {
        srcPort: udp.udpSrcPort(payload, 0),
        dstPort: udp.udpDstPort(payload, 0),
        data: payload.slice(8, udp.udpLength(payload, 0)),
        checksumOk: udp.checkUdp(payload, 0, payload.length, out.ip.src, out.ip.dst) === 'ok',
      };
    }
    if (out.ip.protocol === 1 && !out.ip.more && out.ip.fragmentOffset === 0 && payload.length >= 8) {
      out.icmp = {
        type: icmp.icmpType(payload, 0),
        code: icmp.icmpCode(payload, 0),
        id: icmp.icmpEchoId(payload, 0),
        seq: icmp.icmpEchoSeq(payload, 0),
        data: payload.slice(8),
        ok: icmp.checkIcmp(payload, 0, payload.length),
      };
    }
  }
  return out;
}

export { readIpv4 };
