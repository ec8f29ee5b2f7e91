import { describe, expect, it } from 'vitest';
import { arp, icmp, NetStack } from '../src/index.js';
import { arpFrame, CaptureDevice, ip, ipFrame, parseFrame, udpPayload } from './helpers/index.js';

const PEER = Uint8Array.of(2, 0, 0, 0, 0, 9);

function setup(opts: Partial<ConstructorParameters<typeof NetStack>[0]> = {}) {
  const clock = { now: 0 };
  const stack = new NetStack({ now: () => clock.now, seed: 1, ...opts });
  const dev = new CaptureDevice();
  stack.addInterface(dev, { address: '10.0.0.1/24', gateway: '10.0.0.254' });
  // Teach it the peer and the gateway.
  dev.inject(arpFrame(arp.ArpOp.Request, PEER, ip('10.0.0.9'), new Uint8Array(6), ip('10.0.0.1')));
  dev.inject(arpFrame(arp.ArpOp.Request, Uint8Array.of(2, 0, 0, 0, 0, 0xfe), ip('10.0.0.254'), new Uint8Array(6), ip('10.0.0.1')));
  dev.take();
  const received: Array<{ data: number[]; src: number; srcPort: number }> = [];
  stack.udp.bind(0, 7, (d) => {
    received.push({ data: [...d.buf.store.subarray(d.buf.offset, d.buf.offset + d.buf.length)], src: d.src, srcPort: d.srcPort });
    d.buf.release();
  });
  return { stack, dev, clock, received };
}

function udpTo(dev: CaptureDevice, data: Uint8Array, o: Parameters<typeof ipFrame>[6] = {}, dst = ip('10.0.0.1')): Uint8Array {
  return ipFrame(dev.mac, PEER, ip('10.0.0.9'), dst, 17, udpPayload(ip('10.0.0.9'), dst, 1234, 7, data), o);
}

/** The fragments of an IP payload as frames. */
function fragments(dev: CaptureDevice, payload: Uint8Array, piece: number, id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += piece) {
    const part = payload.subarray(at, Math.min(payload.length, at + piece));
    out.push(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 17, part, { id, fragmentOffset: at, moreFragments: at + piece < payload.length }));
  }
  return out;
}

describe('IPv4 input', () => {
  it('delivers a datagram, skipping IPv4 options, and drops link padding', () => {
    const { dev, received } = setup();
    dev.inject(udpTo(dev, Uint8Array.of(1, 2, 3), { optionBytes: 8 }));
    const padded = new Uint8Array(80);
    padded.set(udpTo(dev, Uint8Array.of(4)));
    dev.inject(padded);
    expect(received.map((r) => r.data)).toEqual([[1, 2, 3], [4]]);
    expect(dev.rxOutstanding).toBe(0);
  });

  it('drops bad headers: checksum, version, lengths, bogus sources, other destinations', () => {
    const { stack, dev, received } = setup();
    const good = udpTo(dev, Uint8Array.of(1));
    const bad = [
      (() => {
        const f = good.slice();
        f[24] ^= 1; // header checksum
        return f;
      })(),
      (() => {
        const f = good.slice();
        f[14] = 0x65; // version 6
        return f;
      })(),
      good.slice(0, 30), // truncated
      ipFrame(dev.mac, PEER, ip('255.255.255.255'), ip('10.0.0.1'), 17, udpPayload(ip('255.255.255.255'), ip('10.0.0.1'), 1, 7, Uint8Array.of(1))),
      ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.77'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.77'), 1, 7, Uint8Array.of(1))),
      (() => {
        const f = good.slice();
        f[41] ^= 0xff; // UDP checksum
        return f;
      })(),
    ];
    for (const f of bad) dev.inject(f);
    expect(received).toEqual([]);
    expect(dev.take()).toEqual([]);
    expect(stack.stats.rxDropped).toBe(5);
    expect(stack.udp.stats.rxDropped).toBe(1);
    expect(dev.rxOutstanding).toBe(0);
  });

  it('answers an unknown protocol with protocol unreachable, and a closed port with port unreachable', () => {
    const { dev } = setup();
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 99, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)));
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.1'), 1111, 9999, Uint8Array.of(1))));
    const [proto, port] = dev.take().map(parseFrame);
    expect(proto.icmp).toMatchObject({ type: icmp.IcmpType.DestinationUnreachable, code: icmp.UnreachableCode.Protocol, ok: true });
    expect(port.icmp).toMatchObject({ type: icmp.IcmpType.DestinationUnreachable, code: icmp.UnreachableCode.Port, ok: true });
    // The quote is the original IP header and the first 8 bytes of the UDP datagram.
    expect(port.icmp?.data.subarray(0, 20)).toEqual(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.1'), 1111, 9999, Uint8Array.of(1))).subarray(14, 34));
    expect(port.ip?.dst).toBe(ip('10.0.0.9'));
    // Not for broadcasts.
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.255'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.255'), 1111, 9999, Uint8Array.of(1))));
    expect(dev.take()).toEqual([]);
  });

  it('rate-limits ICMP errors', () => {
    const { dev, clock } = setup({ limits: { icmpErrorsPerSecond: 3 } });
    for (let i = 0; i < 10; i++) dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 99, Uint8Array.of(1)));
    expect(dev.take()).toHaveLength(3);
    clock.now += 1000;
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 99, Uint8Array.of(1)));
    expect(dev.take()).toHaveLength(1);
  });
});

describe('fragments', () => {
  const payload = udpPayload(ip('10.0.0.9'), ip('10.0.0.1'), 1234, 7, Uint8Array.from({ length: 3000 }, (_, i) => i & 255));

  it('reassembles in any order, with duplicates', () => {
    const { dev, received, stack } = setup();
    const frags = fragments(dev, payload, 1480, 77);
    for (const f of [frags[2], frags[0], frags[0], frags[1]]) dev.inject(f);
    expect(received).toHaveLength(1);
    expect(received[0].data).toEqual([...payload.subarray(8)]);
    expect(stack.memory().reassemblyBytes).toBe(0);
    expect(dev.rxOutstanding).toBe(0);
  });

  it('drops an incomplete datagram after the timeout', () => {
    const { dev, received, stack, clock } = setup({ limits: { reassembly: { timeoutMs: 1000 } } });
    const frags = fragments(dev, payload, 1480, 77);
    dev.inject(frags[0]);
    expect(stack.memory().reassemblyDatagrams).toBe(1);
    expect(stack.poll()).toBe(1000);
    clock.now = 1000;
    stack.poll();
    expect(stack.memory().reassemblyDatagrams).toBe(0);
    dev.inject(frags[1]);
    dev.inject(frags[2]);
    expect(received).toEqual([]);
  });

  it('bounds datagrams and bytes held, evicting the oldest', () => {
    const { dev, stack } = setup({ limits: { reassembly: { maxDatagrams: 4, maxBytes: 6000 } } });
    for (let id = 0; id < 20; id++) {
      dev.inject(fragments(dev, payload, 1480, id)[0]);
      const m = stack.memory();
      expect(m.reassemblyDatagrams).toBeLessThanOrEqual(4);
      expect(m.reassemblyBytes).toBeLessThanOrEqual(6000);
    }
    expect(stack.ip.reassembly.dropped).toBeGreaterThan(10);
  });

  it('refuses inconsistent fragments and too many pieces', () => {
    const { dev, stack, received } = setup({ limits: { reassembly: { maxFragments: 4 } } });
    const tiny = fragments(dev, payload, 8, 5);
    for (const f of tiny) dev.inject(f);
    expect(received).toEqual([]);
    expect(stack.memory().reassemblyDatagrams).toBeLessThanOrEqual(1);
    // A last fragment that ends before data already seen.
    const frags = fragments(dev, payload, 1480, 6);
    dev.inject(frags[1]);
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 17, payload.subarray(0, 8), { id: 6, fragmentOffset: 0 }));
    expect(received).toEqual([]);
  });
});

describe('IPv4 output', () => {
  it('fragments what exceeds the MTU, and refuses with DF', () => {
    const { stack, dev, received } = setup();
    const big = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 255);
    const pcb = stack.udp.bind(0, 6000, () => {});
    expect(pcb.sendTo(big, ip('10.0.0.9'), 7)).toBe('sent');
    const frames = dev.take();
    const parsed = frames.map(parseFrame);
    expect(parsed).toHaveLength(3);
    expect(parsed.map((p) => p.ip?.fragmentOffset)).toEqual([0, 1480, 2960]);
    expect(parsed.map((p) => p.ip?.more)).toEqual([true, true, false]);
    expect(new Set(parsed.map((p) => p.ip?.id)).size).toBe(1);
    expect(frames.every((f) => f.length <= 1514)).toBe(true);
    // Our own reassembly puts them back together (reflect them to ourselves).
    for (const f of frames) {
      const back = f.slice();
      back.set(dev.mac, 0);
      back.set(PEER, 6);
      // swap src/dst addresses and fix nothing else: checksums are symmetric in the swap
      const src = back.slice(26, 30);
      back.copyWithin(26, 30, 34);
      back.set(src, 30);
      dev.inject(back);
    }
    // Sent from port 6000 to port 7: reflected, it arrives on our port 7, whole.
    expect(received).toHaveLength(1);
    expect(received[0].data).toEqual([...big]);
    expect(stack.ip.output(stack.ip.allocBuf(ip('10.0.0.9'), 2000) as never, ip('10.0.0.1'), ip('10.0.0.9'), 17, { dontFragment: true })).toBe('too-big');
  });

  it('chooses the interface by longest prefix and the default route', () => {
    const clock = { now: 0 };
    const stack = new NetStack({ now: () => clock.now, seed: 3 });
    const a = new CaptureDevice('eth0', Uint8Array.of(2, 0, 0, 0, 0, 1));
    const b = new CaptureDevice('eth1', Uint8Array.of(2, 0, 0, 0, 0, 2));
    stack.addInterface(a, { address: '10.0.0.1/24', gateway: '10.0.0.254' });
    stack.addInterface(b, { address: '192.168.1.1/24' });
    stack.addRoute({ dest: '172.16.0.0', prefix: 12, gateway: '192.168.1.254' });
    a.take();
    b.take();
    const pcb = stack.udp.bind(0, 6000, () => {});
    pcb.sendTo(Uint8Array.of(1), ip('192.168.1.5'), 7);
    pcb.sendTo(Uint8Array.of(1), ip('172.20.0.1'), 7);
    pcb.sendTo(Uint8Array.of(1), ip('8.8.8.8'), 7);
    const onA = a.take().map(parseFrame);
    const onB = b.take().map(parseFrame);
    expect(onB.map((f) => f.arp?.tpa)).toEqual([ip('192.168.1.5'), ip('192.168.1.254')]);
    expect(onB.every((f) => f.arp?.spa === ip('192.168.1.1'))).toBe(true);
    expect(onA.map((f) => f.arp?.tpa)).toEqual([ip('10.0.0.254')]);
    expect(stack.ip.sourceFor(ip('172.20.0.1'))).toBe(ip('192.168.1.1'));
    expect(stack.ip.sourceFor(ip('8.8.8.8'))).toBe(ip('10.0.0.1'));
    expect(stack.ip.mtuFor(ip('8.8.8.8'))).toBe(1480);
  });

  it('reports no route without a default route', () => {
    const stack = new NetStack({ now: () => 0, seed: 3 });
    stack.addInterface(new CaptureDevice(), { address: '10.0.0.1/24' });
    const pcb = stack.udp.bind(0, 6000, () => {});
    expect(pcb.sendTo(Uint8Array.of(1), ip('8.8.8.8'), 7)).toBe('no-route');
  });

  it('delivers datagrams to its own address at the next poll', () => {
    const { stack, received } = setup();
    const pcb = stack.udp.bind(0, 6000, () => {});
    stack.poll();
    let woken = 0;
    stack.onWake(() => woken++);
    expect(pcb.sendTo(Uint8Array.of(9), ip('10.0.0.1'), 7)).toBe('sent');
    expect(received).toEqual([]);
    expect(woken).toBe(1);
    stack.poll();
    expect(received).toEqual([{ data: [9], src: ip('10.0.0.1'), srcPort: 6000 }]);
  });

  it('holds frames the device has no room for and sends them on onTxReady, bounded', () => {
    const { stack, dev } = setup({ limits: { txBacklog: 3 } });
    dev.txRoom = 0;
    const pcb = stack.udp.bind(0, 6000, () => {});
    for (let i = 0; i < 5; i++) pcb.sendTo(Uint8Array.of(i), ip('10.0.0.9'), 7);
    expect(dev.take()).toEqual([]);
    expect(stack.memory().txBacklog).toBe(3);
    dev.txReady();
    expect(dev.take().map((f) => parseFrame(f).udp?.data[0])).toEqual([2, 3, 4]);
    expect(dev.txOutstanding).toBe(0);
  });
});
