import { describe, expect, it } from 'vitest';
import { arp, NetStack } from '../src/index.js';
import { arpFrame, CaptureDevice, ip, ipFrame, parseFrame, udpPayload } from './helpers/index.js';

const PEER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);

function setup(limits?: ConstructorParameters<typeof NetStack>[0]['limits']) {
  let now = 0;
  const stack = new NetStack({ now: () => now, seed: 1, limits });
  const dev = new CaptureDevice();
  stack.addInterface(dev, { address: '10.0.0.1/24', gateway: '10.0.0.254' });
  dev.take(); // the gratuitous ARP
  return { stack, dev, advance: (ms: number) => (now += ms), at: () => now };
}

describe('ARP', () => {
  it('announces a new address with a gratuitous request', () => {
    const stack = new NetStack({ now: () => 0, seed: 1 });
    const dev = new CaptureDevice();
    stack.addInterface(dev, { address: '10.0.0.1/24' });
    const [f] = dev.take().map(parseFrame);
    expect(f.arp).toMatchObject({ op: arp.ArpOp.Request, spa: ip('10.0.0.1'), tpa: ip('10.0.0.1') });
  });

  it('answers a request for its address, and learns the asker', () => {
    const { stack, dev } = setup();
    dev.inject(arpFrame(arp.ArpOp.Request, PEER_MAC, ip('10.0.0.9'), new Uint8Array(6), ip('10.0.0.1')));
    const [reply] = dev.take().map(parseFrame);
    expect(reply.dst).toBe('02:00:00:00:00:09');
    expect(reply.arp).toEqual({ op: arp.ArpOp.Reply, sha: '52:54:00:12:34:56', spa: ip('10.0.0.1'), tha: '02:00:00:00:00:09', tpa: ip('10.0.0.9') });
    // Learned: a datagram to the asker goes out at once, without a request.
    const s = stack.udp.bind(0, 5000, () => {});
    expect(s.sendTo(Uint8Array.of(1), ip('10.0.0.9'), 7)).toBe('sent');
    const [d] = dev.take().map(parseFrame);
    expect(d.dst).toBe('02:00:00:00:00:09');
    expect(d.udp?.data).toEqual(Uint8Array.of(1));
    expect(dev.rxOutstanding).toBe(0);
  });

  it('ignores requests for other addresses and does not learn from them', () => {
    const { stack, dev } = setup();
    dev.inject(arpFrame(arp.ArpOp.Request, PEER_MAC, ip('10.0.0.9'), new Uint8Array(6), ip('10.0.0.77')));
    expect(dev.take()).toEqual([]);
    expect(stack.interfaces[0].arp.size).toBe(0);
  });

  it('queues packets while resolving, sends them on the reply, and routes off-link traffic to the gateway', () => {
    const { stack, dev } = setup();
    const s = stack.udp.bind(0, 5000, () => {});
    expect(s.sendTo(Uint8Array.of(1), ip('10.0.0.9'), 7)).toBe('queued-for-arp');
    expect(s.sendTo(Uint8Array.of(2), ip('10.0.0.9'), 7)).toBe('queued-for-arp');
    expect(s.sendTo(Uint8Array.of(3), ip('8.8.8.8'), 53)).toBe('queued-for-arp');
    const reqs = dev.take().map(parseFrame);
    expect(reqs.map((r) => r.arp?.tpa)).toEqual([ip('10.0.0.9'), ip('10.0.0.254')]);
    expect(reqs[0].dst).toBe('ff:ff:ff:ff:ff:ff');
    dev.inject(arpFrame(arp.ArpOp.Reply, PEER_MAC, ip('10.0.0.9'), dev.mac, ip('10.0.0.1')));
    const sent = dev.take().map(parseFrame);
    expect(sent.map((f) => [...(f.udp?.data ?? [])])).toEqual([[1], [2]]);
    expect(sent.every((f) => f.dst === '02:00:00:00:00:09')).toBe(true);
    const gwMac = Uint8Array.of(2, 0, 0, 0, 0, 0xfe);
    dev.inject(arpFrame(arp.ArpOp.Reply, gwMac, ip('10.0.0.254'), dev.mac, ip('10.0.0.1')));
    const [viaGw] = dev.take().map(parseFrame);
    expect(viaGw.dst).toBe('02:00:00:00:00:fe');
    expect(viaGw.ip?.dst).toBe(ip('8.8.8.8'));
  });

  it('retries a request three times a second apart, then drops what waited', () => {
    const { stack, dev, advance } = setup();
    const s = stack.udp.bind(0, 5000, () => {});
    s.sendTo(Uint8Array.of(1), ip('10.0.0.9'), 7);
    expect(dev.take()).toHaveLength(1);
    let deadline = stack.poll();
    expect(deadline).toBe(1000);
    const requests: number[] = [];
    for (let t = 0; t < 5; t++) {
      advance(1000);
      deadline = stack.poll();
      requests.push(dev.take().length);
    }
    expect(requests).toEqual([1, 1, 0, 0, 0]);
    expect(stack.memory().arpQueued).toBe(0);
    expect(stack.interfaces[0].arp.dropped).toBe(1);
    expect(dev.txOutstanding).toBe(0);
    expect(deadline).toBe(Number.POSITIVE_INFINITY);
  });

  it('bounds the queue per address and in all', () => {
    const { stack, dev } = setup({ arp: { maxQueuedPerEntry: 2, maxQueued: 5 } });
    const s = stack.udp.bind(0, 5000, () => {});
    for (let i = 0; i < 10; i++) s.sendTo(Uint8Array.of(i), ip('10.0.0.9'), 7);
    expect(stack.memory().arpQueued).toBe(2);
    for (let h = 10; h < 20; h++) s.sendTo(Uint8Array.of(h), ip(`10.0.0.${h}`), 7);
    expect(stack.memory().arpQueued).toBe(5);
    dev.take();
    // The two newest for .9 survive.
    dev.inject(arpFrame(arp.ArpOp.Reply, PEER_MAC, ip('10.0.0.9'), dev.mac, ip('10.0.0.1')));
    expect(dev.take().map((f) => parseFrame(f).udp?.data[0])).toEqual([]);
    // (they were pushed out by the later addresses: the global bound drops the oldest first)
    expect(dev.txOutstanding).toBe(5);
  });

  it('forgets resolved entries after their lifetime', () => {
    const { stack, dev, advance } = setup({ arp: { entryTtlMs: 5000 } });
    dev.inject(arpFrame(arp.ArpOp.Request, PEER_MAC, ip('10.0.0.9'), new Uint8Array(6), ip('10.0.0.1')));
    dev.take();
    const s = stack.udp.bind(0, 5000, () => {});
    expect(s.sendTo(Uint8Array.of(1), ip('10.0.0.9'), 7)).toBe('sent');
    advance(5001);
    expect(s.sendTo(Uint8Array.of(1), ip('10.0.0.9'), 7)).toBe('queued-for-arp');
  });

  it('answers an IPv4 packet only when it is addressed to its MAC or broadcast', () => {
    const { stack, dev } = setup();
    let got = 0;
    stack.udp.bind(0, 7, (d) => {
      got++;
      d.buf.release();
    });
    const other = Uint8Array.of(2, 0, 0, 0, 0, 0x42);
    dev.inject(ipFrame(other, PEER_MAC, ip('10.0.0.9'), ip('10.0.0.1'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.1'), 1, 7, Uint8Array.of(1))));
    expect(got).toBe(0);
    dev.inject(ipFrame(dev.mac, PEER_MAC, ip('10.0.0.9'), ip('10.0.0.1'), 17, udpPayload(ip('10.0.0.9'), ip('10.0.0.1'), 1, 7, Uint8Array.of(1))));
    expect(got).toBe(1);
    expect(dev.rxOutstanding).toBe(0);
  });
});
