import { describe, expect, it } from 'vitest';
import { arp, dhcp, dns, icmp, NetStack, Sockets, Waiter } from './helpers/imports.js';
import { arpFrame, CaptureDevice, dhcpPayload, dnsPayload, echoPayload, ip, ipFrame, mulberry32, parseFrame, udpPayload } from './helpers/index.js';

// 2·10^4 frames in CI; UK_FUZZ_CASES=1000000 for the long run.
const CASES = Number(process.env.UK_FUZZ_CASES ?? 20_000);
const SEED = Number(process.env.UK_FUZZ_SEED ?? 0x5eed);

const PEER = Uint8Array.of(2, 0, 0, 0, 0, 9);
const LIMITS = {
  arp: { maxEntries: 16, maxQueued: 8, maxQueuedPerEntry: 2 },
  reassembly: { maxDatagrams: 4, maxBytes: 16 * 1024, maxFragments: 16, timeoutMs: 2000 },
  txBacklog: 16,
  localQueue: 16,
};

describe('fuzzing the stack with random and mutated frames', () => {
  it(`survives ${CASES} frames with bounded memory and no leaked buffers`, async () => {
    const r = mulberry32(SEED);
    let now = 0;
    const errors: unknown[] = [];
    const stack = new NetStack({ now: () => now, seed: SEED, limits: LIMITS, dns: { servers: ['10.0.0.53'], cacheSize: 8 }, onError: (e) => errors.push(e) });
    const eth0 = new CaptureDevice('eth0', Uint8Array.of(2, 0, 0, 0, 0, 1));
    const eth1 = new CaptureDevice('eth1', Uint8Array.of(2, 0, 0, 0, 0, 2));
    stack.addInterface(eth0, { address: '10.0.0.1/24', gateway: '10.0.0.254' });
    stack.addInterface(eth1, { dhcp: true });
    const sockets = new Sockets(stack, new Waiter());
    const echo = sockets.udp({ maxQueued: 8, maxQueuedBytes: 8 * 1024 }).bind(7);
    const dhcpXid = () => {
      for (const f of eth1.sent) {
        const p = parseFrame(f);
        if (p.udp?.dstPort === 67) return dhcp.parseDhcp(p.udp.data, 0, p.udp.data.length)?.xid ?? 0;
      }
      return 0;
    };
    let xid = dhcpXid();
    let dnsQuery = { id: 0, port: 0 };

    const seeds = (): Array<[CaptureDevice, Uint8Array]> => {
      const me = ip('10.0.0.1');
      const peer = ip('10.0.0.9');
      const big = Uint8Array.from({ length: 2000 }, (_, i) => i & 255);
      const frag = udpPayload(peer, me, 1000, 7, big);
      const id = Math.floor(r() * 65536);
      const reply = (type: number) =>
        dhcpPayload({ op: 2, xid, chaddr: eth1.mac, yiaddr: ip('192.168.0.10'), messageType: type, serverId: ip('192.168.0.1'), leaseTime: 5, subnetMask: 0xffffff00, routers: [ip('192.168.0.1')], dnsServers: [ip('192.168.0.1')] });
      return [
        [eth0, arpFrame(arp.ArpOp.Request, PEER, peer, new Uint8Array(6), me)],
        [eth0, arpFrame(arp.ArpOp.Reply, Uint8Array.of(2, 0, 0, 0, 0, Math.floor(r() * 256)), ip(`10.0.0.${Math.floor(r() * 256)}`), eth0.mac, me)],
        [eth0, arpFrame(arp.ArpOp.Reply, Uint8Array.of(2, 0, 0, 0, 0, 0x53), ip('10.0.0.53'), eth0.mac, me)],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 17, udpPayload(peer, me, 1000, 7, Uint8Array.of(1, 2, 3)))],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 17, udpPayload(peer, me, 1000, 9, Uint8Array.of(1)))],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 1, echoPayload(icmp.IcmpType.EchoRequest, 1, 2, big.subarray(0, 64)))],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 1, echoPayload(icmp.IcmpType.EchoReply, 1, 2, big.subarray(0, 8)))],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 6, new Uint8Array(20))],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 17, frag.subarray(0, 1480), { id, moreFragments: true })],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 17, frag.subarray(1480), { id, fragmentOffset: 1480 })],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 17, udpPayload(peer, me, 1000, 7, Uint8Array.of(9)), { optionBytes: 12 })],
        [
          eth0,
          ipFrame(
            eth0.mac,
            PEER,
            ip('10.0.0.53'),
            me,
            17,
            udpPayload(ip('10.0.0.53'), me, 53, dnsQuery.port, dnsPayload({ id: dnsQuery.id, response: true, truncated: false, rcode: 0, questions: [{ name: 'fuzz.example', type: 1, class: 1 }], answers: [{ name: 'fuzz.example', type: 5, class: 1, ttl: 1, target: 'x.example' }, { name: 'x.example', type: 1, class: 1, ttl: 1, address: 1 }] })),
          ),
        ],
        [eth0, ipFrame(eth0.mac, PEER, peer, me, 1, (() => {
          // Port unreachable about something we sent.
          const quoted = ipFrame(PEER, eth0.mac, me, peer, 17, udpPayload(me, peer, 7, 1000, Uint8Array.of(1))).subarray(14, 14 + 28);
          const m = new Uint8Array(8 + quoted.length);
          m.set(quoted, 8);
          icmp.emitIcmpError(m, 0, m.length, icmp.IcmpType.DestinationUnreachable, icmp.UnreachableCode.Port);
          return m;
        })())],
        [eth1, ipFrame(Uint8Array.of(255, 255, 255, 255, 255, 255), PEER, ip('192.168.0.1'), ip('255.255.255.255'), 17, udpPayload(ip('192.168.0.1'), ip('255.255.255.255'), 67, 68, reply(dhcp.DhcpMessageType.Offer)))],
        [eth1, ipFrame(Uint8Array.of(255, 255, 255, 255, 255, 255), PEER, ip('192.168.0.1'), ip('255.255.255.255'), 17, udpPayload(ip('192.168.0.1'), ip('255.255.255.255'), 67, 68, reply(dhcp.DhcpMessageType.Ack)))],
        [eth1, ipFrame(Uint8Array.of(255, 255, 255, 255, 255, 255), PEER, ip('192.168.0.1'), ip('255.255.255.255'), 17, udpPayload(ip('192.168.0.1'), ip('255.255.255.255'), 67, 68, reply(dhcp.DhcpMessageType.Nak)))],
      ];
    };

    const mutate = (f: Uint8Array): Uint8Array => {
      let out = f.slice();
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const what = r();
        if (what < 0.5 && out.length > 0) out[Math.floor(r() * out.length)] ^= 1 << Math.floor(r() * 8);
        else if (what < 0.7 && out.length > 0) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
        else if (what < 0.8) out = out.slice(0, Math.floor(r() * out.length));
        else if (what < 0.9) {
          const ext = new Uint8Array(out.length + Math.floor(r() * 64));
          ext.set(out);
          out = ext;
        } else if (out.length > 18) {
          // Interesting header fields: IHL, total length, flags/offset, protocol, UDP length.
          const at = [14, 16, 17, 20, 21, 23, 38, 39][Math.floor(r() * 8)];
          if (at < out.length) out[at] = [0, 1, 0x45, 0x4f, 0xff, 0x20, 0x3f][Math.floor(r() * 7)];
        }
      }
      return out;
    };

    let sent = 0;
    const check = (): void => {
      for (const dev of [eth0, eth1]) {
        for (const f of dev.take()) {
          sent++;
          const p = parseFrame(f); // throws on a malformed IPv4 header we built
          if (p.udp?.dstPort === 67 && dev === eth1) xid = dhcp.parseDhcp(p.udp.data, 0, p.udp.data.length)?.xid ?? xid;
          if (p.udp?.dstPort === 53) {
            const q = dns.parseDns(p.udp.data, 0, p.udp.data.length);
            if (q !== undefined) dnsQuery = { id: q.id, port: p.udp.srcPort };
          }
          if (p.udp !== undefined) expect(p.udp.checksumOk).toBe(true);
          if (p.icmp !== undefined) expect(p.icmp.ok).toBe(true);
        }
      }
      const m = stack.memory();
      expect(m.arpEntries).toBeLessThanOrEqual(2 * LIMITS.arp.maxEntries);
      expect(m.arpQueued).toBeLessThanOrEqual(2 * LIMITS.arp.maxQueued);
      expect(m.reassemblyBytes).toBeLessThanOrEqual(LIMITS.reassembly.maxBytes);
      expect(m.reassemblyDatagrams).toBeLessThanOrEqual(LIMITS.reassembly.maxDatagrams);
      expect(m.txBacklog).toBeLessThanOrEqual(2 * LIMITS.txBacklog);
      expect(m.localQueued).toBeLessThanOrEqual(LIMITS.localQueue);
      expect(m.timers).toBeLessThan(200);
      expect(m.udpBound).toBeLessThanOrEqual(5); // echo, DHCP, three lookups
      expect(m.dnsCache).toBeLessThanOrEqual(8);
      expect(echo.queued).toBeLessThanOrEqual(8);
      // Every received buffer is released but those queued on the socket (reassembled ones are copies).
      expect(eth0.rxOutstanding + eth1.rxOutstanding).toBeLessThanOrEqual(echo.queued);
      expect(errors).toEqual([]);
      expect(stack.stats.internalErrors).toBe(0);
    };

    let pool = seeds();
    for (let i = 0; i < CASES; i++) {
      if (i % 64 === 0) {
        pool = seeds();
        void stack.resolve('fuzz.example').catch(() => {});
        void stack.ping(ip(`10.0.0.${2 + (i % 5)}`), { timeoutMs: 500 }).catch(() => {});
      }
      const choice = r();
      let dev: CaptureDevice;
      let frame: Uint8Array;
      if (choice < 0.1) {
        dev = r() < 0.5 ? eth0 : eth1;
        frame = Uint8Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256));
        if (frame.length >= 14 && r() < 0.7) {
          frame.set(r() < 0.5 ? dev.mac : Uint8Array.of(255, 255, 255, 255, 255, 255), 0);
          frame[12] = 8;
          frame[13] = r() < 0.5 ? 0 : 6;
        }
      } else {
        const [d, f] = pool[Math.floor(r() * pool.length)];
        dev = d;
        frame = choice < 0.3 ? f : mutate(f);
      }
      dev.inject(frame);
      if (r() < 0.05) {
        now += r() * 3000;
        stack.poll();
      }
      if (r() < 0.02) while (echo.queued > 0) echo.tryRecvFrom();
      if (i % 256 === 0) {
        await Promise.resolve();
        check();
      }
    }
    now += 1_000_000;
    stack.poll();
    await Promise.resolve();
    check();
    expect(sent).toBeGreaterThan(CASES / 20);
    // The valid seeds reach every layer, not just the first checks.
    const reached = { reassembled: stack.stats.reassembled, echo: stack.icmp.stats.echoRequests, icmpErrors: stack.icmp.stats.errors, offers: stack.dhcp(1)?.stats.offers ?? 0, acks: stack.dhcp(1)?.stats.acks ?? 0, dnsAnswers: stack.dns.stats.answers, udp: stack.udp.stats.rxDatagrams };
    if (process.env.UK_FUZZ_VERBOSE) console.log(reached);
    for (const [what, n] of Object.entries(reached)) expect(n, what).toBeGreaterThan(0);
    echo.close();
    expect(eth0.rxOutstanding + eth1.rxOutstanding).toBe(0);
  });
});
