import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arp, dhcp, dns, ethernet, icmp, ipv4, udp } from './helpers/imports.js';

const addr = fc.nat({ max: 0xffffffff });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });

describe('Ethernet', () => {
  it('emits and reads back; formats and parses MACs', () => {
    fc.assert(
      fc.property(mac, mac, fc.nat({ max: 0xffff }), (d, s, t) => {
        const b = new Uint8Array(14);
        ethernet.emitEthernet(b, 0, d, s, t);
        expect(ethernet.ethDst(b, 0)).toEqual(d);
        expect(ethernet.ethSrc(b, 0)).toEqual(s);
        expect(ethernet.ethType(b, 0)).toBe(t);
        expect(ethernet.parseMac(ethernet.formatMac(s))).toEqual(s);
      }),
    );
    expect(ethernet.parseMac('52:54:00:zz:00:01')).toBeUndefined();
    expect(ethernet.checkEthernet(13)).toBe(false);
  });
});

describe('ARP', () => {
  it('round-trips and rejects other hardware or protocol types', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), mac, addr, mac, addr, (op, sha, spa, tha, tpa) => {
        const b = new Uint8Array(28);
        arp.emitArp(b, 0, { op, sha, spa, tha, tpa });
        expect(arp.checkArp(b, 0, 28)).toBe(true);
        expect([arp.arpOp(b, 0), [...arp.arpSha(b, 0)], arp.arpSpa(b, 0), [...arp.arpTha(b, 0)], arp.arpTpa(b, 0)]).toEqual([op, [...sha], spa, [...tha], tpa]);
        expect(arp.checkArp(b, 0, 27)).toBe(false);
        b[1] = 6; // IEEE 802 hardware
        expect(arp.checkArp(b, 0, 28)).toBe(false);
      }),
    );
  });
});

describe('IPv4', () => {
  it('round-trips every field and verifies its checksum', () => {
    fc.assert(
      fc.property(addr, addr, fc.nat({ max: 255 }), fc.nat({ max: 1400 }), fc.nat({ max: 255 }), fc.nat({ max: 0xffff }), fc.boolean(), fc.nat({ max: 8000 }), (src, dst, protocol, len, ttl, id, mf, fo) => {
        const b = new Uint8Array(20 + len);
        const fragmentOffset = fo * 8;
        ipv4.emitIpv4(b, 0, { src, dst, protocol, payloadLength: len, ttl, id, moreFragments: mf, fragmentOffset, dontFragment: !mf });
        expect(ipv4.checkIpv4(b, 0, b.length)).toBe('ok');
        expect([ipv4.ipv4Src(b, 0), ipv4.ipv4Dst(b, 0), ipv4.ipv4Protocol(b, 0), ipv4.ipv4TotalLength(b, 0), ipv4.ipv4Ttl(b, 0), ipv4.ipv4Id(b, 0)]).toEqual([src, dst, protocol, 20 + len, ttl, id]);
        expect([ipv4.ipv4MoreFragments(b, 0), ipv4.ipv4FragmentOffset(b, 0), ipv4.ipv4DontFragment(b, 0)]).toEqual([mf, fragmentOffset, !mf]);
        expect(ipv4.checkIpv4(b, 0, b.length - 1)).toBe(len === 0 ? 'truncated' : 'total-length');
        b[8] ^= 1;
        expect(ipv4.checkIpv4(b, 0, b.length)).toBe('checksum');
      }),
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        expect(['ok', 'truncated', 'version', 'header-length', 'total-length', 'checksum']).toContain(ipv4.checkIpv4(b, 0, b.length));
      }),
    );
  });
});

describe('UDP and ICMP', () => {
  it('UDP checksums verify, and a zero checksum means none', () => {
    fc.assert(
      fc.property(addr, addr, fc.nat({ max: 0xffff }), fc.nat({ max: 0xffff }), fc.uint8Array({ maxLength: 100 }), (src, dst, sp, dp, data) => {
        const b = new Uint8Array(8 + data.length);
        b.set(data, 8);
        udp.emitUdp(b, 0, sp, dp, data.length, src, dst);
        expect(udp.checkUdp(b, 0, b.length, src, dst)).toBe('ok');
        expect([udp.udpSrcPort(b, 0), udp.udpDstPort(b, 0), udp.udpLength(b, 0)]).toEqual([sp, dp, 8 + data.length]);
        expect(udp.udpChecksum(b, 0)).not.toBe(0);
        b[7] ^= 0x10;
        expect(udp.checkUdp(b, 0, b.length, src, dst)).toBe('checksum');
        expect(udp.checkUdp(b, 0, b.length, src, dst, true)).toBe('ok');
        b[6] = 0;
        b[7] = 0;
        expect(udp.checkUdp(b, 0, b.length, src, dst)).toBe('ok');
        expect(udp.checkUdp(b, 0, 7, src, dst)).toBe('truncated');
      }),
    );
  });

  it('ICMP echo and errors carry verified checksums', () => {
    const b = new Uint8Array(16).fill(7);
    icmp.emitIcmpEcho(b, 0, 16, icmp.IcmpType.EchoRequest, 0xabcd, 42);
    expect(icmp.checkIcmp(b, 0, 16)).toBe(true);
    expect([icmp.icmpType(b, 0), icmp.icmpEchoId(b, 0), icmp.icmpEchoSeq(b, 0)]).toEqual([8, 0xabcd, 42]);
    icmp.emitIcmpError(b, 0, 16, icmp.IcmpType.DestinationUnreachable, icmp.UnreachableCode.FragmentationNeeded, 1400);
    expect(icmp.checkIcmp(b, 0, 16)).toBe(true);
    expect(icmp.icmpNextHopMtu(b, 0)).toBe(1400);
    b[9] ^= 1;
    expect(icmp.checkIcmp(b, 0, 16)).toBe(false);
  });
});

describe('DHCP', () => {
  const message = fc.record({
    op: fc.constantFrom(1, 2),
    xid: addr,
    secs: fc.nat({ max: 0xffff }),
    flags: fc.constantFrom(0, 0x8000),
    ciaddr: addr,
    yiaddr: addr,
    siaddr: addr,
    giaddr: addr,
    chaddr: mac,
    messageType: fc.integer({ min: 1, max: 8 }),
    serverId: fc.option(addr, { nil: undefined }),
    requestedIp: fc.option(addr, { nil: undefined }),
    leaseTime: fc.option(addr, { nil: undefined }),
    subnetMask: fc.option(addr, { nil: undefined }),
    routers: fc.option(fc.array(addr, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    dnsServers: fc.option(fc.array(addr, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    hostname: fc.option(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { nil: undefined }),
  });

  it('emits what it parses', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = new Uint8Array(dhcp.dhcpLength(m));
        expect(dhcp.emitDhcp(b, 0, m)).toBe(b.length);
        expect(b.length).toBeGreaterThanOrEqual(300);
        const p = dhcp.parseDhcp(b, 0, b.length);
        const strip = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
        expect(strip({ ...p, chaddr: [...(p?.chaddr ?? [])] })).toEqual(strip({ ...m, chaddr: [...m.chaddr] }));
      }),
    );
  });

  it('rejects a wrong cookie and options that overrun; never throws', () => {
    const m = { op: 2, xid: 1, chaddr: new Uint8Array(6), messageType: 2 };
    const b = new Uint8Array(dhcp.dhcpLength(m));
    dhcp.emitDhcp(b, 0, m);
    const overrun = b.slice(0, 243);
    overrun[240] = 53;
    overrun[241] = 9;
    expect(dhcp.parseDhcp(overrun, 0, overrun.length)).toBeUndefined();
    b[237] ^= 1;
    expect(dhcp.parseDhcp(b, 0, b.length)).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 240, maxLength: 400 }), (r) => {
        r.set([1, 1, 6], 0);
        r.set([0x63, 0x82, 0x53, 0x63], 236);
        dhcp.parseDhcp(r, 0, r.length);
      }),
    );
  });
});

describe('DNS', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

  it('emits what it parses: questions, A and CNAME answers', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff }), name, fc.array(fc.record({ name, ttl: fc.nat({ max: 0x7fffffff }), address: addr }), { maxLength: 4 }), name, (id, q, as, target) => {
        const m: dns.DnsMessage = {
          id,
          response: true,
          truncated: false,
          rcode: 0,
          questions: [{ name: q, type: 1, class: 1 }],
          answers: [{ name: q, type: dns.DnsType.CNAME, class: 1, ttl: 5, target }, ...as.map((a) => ({ name: a.name, type: 1, class: 1, ttl: a.ttl, address: a.address }))],
        };
        const b = new Uint8Array(dns.dnsLength(m));
        expect(dns.emitDns(b, 0, m)).toBe(b.length);
        const p = dns.parseDns(b, 0, b.length);
        expect(p?.id).toBe(id);
        expect(p?.questions).toEqual(m.questions);
        expect(p?.answers).toEqual(m.answers);
      }),
    );
  });

  it('follows compression pointers and refuses loops and overruns', () => {
    // Header, question "a.b" at 12, answer whose name is a pointer to it.
    const b = Uint8Array.of(0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 97, 1, 98, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4);
    expect(dns.parseDns(b, 0, b.length)?.answers).toEqual([{ name: 'a.b', type: 1, class: 1, ttl: 60, address: 0x01020304 }]);
    const loop = b.slice();
    loop[21] = 0xc0;
    loop[22] = 21; // points at itself
    expect(dns.parseDns(loop, 0, loop.length)).toBeUndefined();
    expect(dns.parseDns(b, 0, b.length - 1)).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 120 }), (r) => {
        dns.parseDns(r, 0, r.length);
      }),
    );
  });

  it('validates names', () => {
    expect(dns.isValidDnsName('example.com')).toBe(true);
    expect(dns.isValidDnsName('example.com.')).toBe(true);
    for (const bad of ['', '.', 'a..b', `${'x'.repeat(64)}.com`, 'sp ace.com', 'a'.repeat(254)]) expect(dns.isValidDnsName(bad)).toBe(false);
  });
});
