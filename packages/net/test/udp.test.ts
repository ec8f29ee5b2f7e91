import { describe, expect, it } from 'vitest';
import { IPV4_ANY, Sockets, Waiter } from './helpers/imports.js';
import { ip, World } from './helpers/index.js';

function pair(linkOpts = {}) {
  const world = new World();
  const link = world.link(linkOpts);
  const a = world.stack();
  const b = world.stack();
  a.addInterface(link.port(), { address: '10.0.0.1/24' });
  b.addInterface(link.port(), { address: '10.0.0.2/24' });
  return { world, link, a, b, sa: new Sockets(a, new Waiter()), sb: new Sockets(b, new Waiter()) };
}

describe('UDP sockets', () => {
  it('bind, sendTo, recvFrom and reply', async () => {
    const { world, sa, sb } = pair({ latencyMs: 1 });
    const server = sb.udp().bind(7);
    const client = sa.udp();
    expect(client.sendTo(new TextEncoder().encode('hello'), '10.0.0.2', 7)).toBe(5);
    expect(client.localPort).toBeGreaterThanOrEqual(49152);
    const req = server.recvFrom();
    await world.run(20);
    const m = await req;
    expect(new TextDecoder().decode(m.data)).toBe('hello');
    expect(m).toMatchObject({ address: ip('10.0.0.1'), port: client.localPort, to: ip('10.0.0.2') });
    server.sendTo(m.data.reverse(), m.address, m.port);
    const rep = client.recvFrom();
    await world.run(20);
    expect(new TextDecoder().decode((await rep).data)).toBe('olleh');
  });

  it('reports EADDRINUSE, EADDRNOTAVAIL, EINVAL, EMSGSIZE, EBADF, ENETUNREACH', () => {
    const { sa } = pair();
    const s = sa.udp().bind(5353);
    expect(() => sa.udp().bind(5353)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    expect(() => sa.udp().bind(5353, '10.0.0.1')).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    expect(() => sa.udp().bind(80, '10.9.9.9')).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    expect(() => s.bind(1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => s.sendTo(new Uint8Array(70_000), '10.0.0.2', 7)).toThrow(expect.objectContaining({ code: 'EMSGSIZE' }));
    expect(() => s.sendTo(new Uint8Array(1), '8.8.8.8', 7)).toThrow(expect.objectContaining({ code: 'ENETUNREACH' }));
    expect(() => s.sendTo(new Uint8Array(1), 'nonsense', 7)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    s.close();
    expect(() => s.sendTo(new Uint8Array(1), '10.0.0.2', 7)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // The port is free again.
    sa.udp().bind(5353);
  });

  it('times out, cancels, and fails pending receives on close', async () => {
    const { world, sa } = pair();
    const s = sa.udp().bind(9);
    const timed = s.recvFrom({ timeoutMs: 300 }).catch((e: unknown) => e);
    await world.run(299);
    const ac = new AbortController();
    const cancelled = s.recvFrom({ signal: ac.signal }).catch((e: unknown) => e);
    await world.run(10);
    expect(await timed).toMatchObject({ code: 'ETIMEDOUT' });
    ac.abort();
    expect(await cancelled).toMatchObject({ code: 'ECANCELED' });
    const pending = s.recvFrom().catch((e: unknown) => e);
    s.close();
    expect(await pending).toMatchObject({ code: 'EBADF' });
    await expect(s.recvFrom()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('bounds its receive queue and counts the drops', async () => {
    const { world, sa, sb, b } = pair();
    const server = sb.udp({ maxQueued: 5 }).bind(7);
    const client = sa.udp();
    // Resolve ARP first: packets waiting for it are bounded (4 per address).
    const warm = sa.ping('10.0.0.2');
    await world.run(20);
    await warm;
    for (let i = 0; i < 20; i++) client.sendTo(Uint8Array.of(i), '10.0.0.2', 7);
    await world.run(10);
    expect(server.queued).toBe(5);
    expect(server.drops).toBe(15);
    const got: number[] = [];
    while (server.queued > 0) got.push(server.tryRecvFrom().data[0]);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(() => server.tryRecvFrom()).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
    server.close();
    expect(b.memory().udpBound).toBe(0);
  });

  it('hands zero-copy buffers with recvBuf', async () => {
    const { world, sa, sb, link } = pair();
    const server = sb.udp().bind(7);
    sa.udp().sendTo(Uint8Array.of(1, 2, 3), '10.0.0.2', 7);
    const p = server.recvBuf();
    await world.run(10);
    const m = await p;
    expect([...m.buf.store.subarray(m.buf.offset, m.buf.offset + m.buf.length)]).toEqual([1, 2, 3]);
    expect(link.ports[1].rxOutstanding).toBe(1);
    m.buf.release();
    expect(link.ports[1].rxOutstanding).toBe(0);
  });

  it('sends and receives broadcasts', async () => {
    const { world, sa, sb } = pair();
    const server = sb.udp().bind(7, IPV4_ANY);
    sa.udp().sendTo(Uint8Array.of(42), '10.0.0.255', 7);
    const p = server.recvFrom();
    await world.run(10);
    expect(await p).toMatchObject({ to: ip('10.0.0.255'), address: ip('10.0.0.1') });
  });

  it('carries datagrams larger than the MTU in fragments, across an impaired link, and loses whole datagrams only', async () => {
    const { world, sa, sb, link } = pair({ loss: 0.02, duplicate: 0.05, reorder: 0.2, reorderMs: 5, latencyMs: 1 });
    const server = sb.udp({ maxQueued: 1000, maxQueuedBytes: 1 << 24 }).bind(7);
    const client = sa.udp();
    const n = 200;
    for (let i = 0; i < n; i++) {
      const data = Uint8Array.from({ length: 3000 + i }, (_, k) => (k + i) & 255);
      client.sendTo(data, '10.0.0.2', 7);
      await world.run(2);
    }
    await world.run(100);
    const seen = new Map<number, number>();
    while (server.queued > 0) {
      const m = server.tryRecvFrom();
      const i = m.data.length - 3000;
      expect(m.data).toEqual(Uint8Array.from({ length: 3000 + i }, (_, k) => (k + i) & 255));
      seen.set(i, (seen.get(i) ?? 0) + 1);
    }
    // Loss takes some, duplication may deliver a datagram twice, and everything else arrives intact.
    expect(seen.size).toBeGreaterThan(n * 0.8);
    expect(link.stats.lost + link.stats.duplicated + link.stats.reordered).toBeGreaterThan(0);
    expect(link.ports.every((p) => p.rxOutstanding === 0)).toBe(true);
  });
});
