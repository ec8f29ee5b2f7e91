import { describe, expect, it } from 'vitest';
import { arp, icmp, isKernelErrorLike, NetStack } from './helpers/imports.js';
import { arpFrame, CaptureDevice, echoPayload, ip, ipFrame, parseFrame, World } from './helpers/index.js';

const PEER = Uint8Array.of(2, 0, 0, 0, 0, 9);

describe('ICMP echo', () => {
  it('answers a ping with the same id, sequence and data', () => {
    const stack = new NetStack({ now: () => 0, seed: 1 });
    const dev = new CaptureDevice();
    stack.addInterface(dev, { address: '10.0.0.1/24' });
    dev.inject(arpFrame(arp.ArpOp.Request, PEER, ip('10.0.0.9'), new Uint8Array(6), ip('10.0.0.1')));
    dev.take();
    const data = Uint8Array.from({ length: 56 }, (_, i) => i);
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 1, echoPayload(icmp.IcmpType.EchoRequest, 0x1234, 7, data)));
    const [r] = dev.take().map(parseFrame);
    expect(r.ip).toMatchObject({ src: ip('10.0.0.1'), dst: ip('10.0.0.9'), protocol: 1 });
    expect(r.icmp).toMatchObject({ type: icmp.IcmpType.EchoReply, id: 0x1234, seq: 7, ok: true });
    expect(r.icmp?.data).toEqual(data);
    // Bad checksum, or a broadcast ping: silence.
    const bad = echoPayload(icmp.IcmpType.EchoRequest, 1, 1, data);
    bad[2] ^= 1;
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.1'), 1, bad));
    dev.inject(ipFrame(dev.mac, PEER, ip('10.0.0.9'), ip('10.0.0.255'), 1, echoPayload(icmp.IcmpType.EchoRequest, 1, 1, data)));
    expect(dev.take()).toEqual([]);
    expect(dev.rxOutstanding).toBe(0);
  });

  it('pings another stack and measures the round trip on the stack clock', async () => {
    const world = new World();
    const link = world.link({ latencyMs: 5 });
    const a = world.stack();
    const b = world.stack();
    a.addInterface(link.port(), { address: '10.0.0.1/24' });
    b.addInterface(link.port(), { address: '10.0.0.2/24' });
    await world.run(50); // the gratuitous announcements die away
    const first = a.ping('10.0.0.2');
    await world.run(100);
    // ARP request + reply, then the echo: two round trips.
    expect(await first).toBe(20);
    const second = a.ping('10.0.0.2', { size: 1000 });
    await world.run(100);
    expect(await second).toBe(10);
  });

  it('times out when nobody answers, and fails at once without a route', async () => {
    const world = new World();
    const link = world.link();
    const a = world.stack();
    a.addInterface(link.port(), { address: '10.0.0.1/24' });
    const p = a.ping('10.0.0.2', { timeoutMs: 500 });
    const caught = p.catch((e: unknown) => e);
    await world.run(1000);
    expect(isKernelErrorLike(await caught, 'ETIMEDOUT')).toBe(true);
    await expect(a.ping('8.8.8.8')).rejects.toMatchObject({ code: 'ENETUNREACH' });
    expect(a.memory().pings).toBe(0);
  });
});
