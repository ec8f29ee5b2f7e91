import { describe, expect, it } from 'vitest';
import { arp, dns, NetStack } from './helpers/imports.js';
import { arpFrame, CaptureDevice, dnsPayload, ip, ipFrame, parseFrame, ScriptedDnsServer, udpPayload, World } from './helpers/index.js';

function setup(servers = ['10.0.0.53'], dnsOpts = {}) {
  const world = new World();
  const link = world.link({ latencyMs: 1 });
  const server = world.stack();
  server.addInterface(link.port(), { address: '10.0.0.53/24' });
  const script = new ScriptedDnsServer(server);
  const client = world.stack({ dns: { servers, ...dnsOpts } });
  client.addInterface(link.port(), { address: '10.0.0.1/24' });
  return { world, script, client };
}

async function resolve(world: World, p: Promise<number[]>, ms = 30_000): Promise<number[] | { code: string }> {
  const r = p.catch((e: { code: string }) => e);
  let done = false;
  void r.then(() => (done = true));
  await world.until(() => done, ms);
  return r;
}

describe('the DNS client', () => {
  it('resolves A records and caches them for their TTL', async () => {
    const { world, script, client } = setup();
    script.records.set('example.com', { addresses: [ip('93.184.216.34'), ip('93.184.216.35')], ttl: 60 });
    expect(await resolve(world, client.resolve('Example.COM.'))).toEqual([ip('93.184.216.34'), ip('93.184.216.35')]);
    expect(script.queries).toHaveLength(1);
    await world.run(59_000);
    expect(await resolve(world, client.resolve('example.com'))).toHaveLength(2);
    expect(script.queries).toHaveLength(1);
    expect(client.dns.stats.cacheHits).toBe(1);
    await world.run(1_000);
    expect(await resolve(world, client.resolve('example.com'))).toHaveLength(2);
    expect(script.queries).toHaveLength(2);
  });

  it('follows CNAMEs and caches for the shortest TTL of the chain', async () => {
    const { world, script, client } = setup();
    script.records.set('www.example.com', { cname: 'edge.example.net', ttl: 10 });
    script.records.set('edge.example.net', { addresses: [ip('1.2.3.4')], ttl: 300 });
    expect(await resolve(world, client.resolve('www.example.com'))).toEqual([ip('1.2.3.4')]);
    await world.run(10_001);
    await resolve(world, client.resolve('www.example.com'));
    expect(script.queries).toHaveLength(2);
  });

  it('reports NXDOMAIN as ENOENT and remembers it for the negative TTL', async () => {
    const { world, script, client } = setup(undefined, { negativeTtl: 30 });
    expect(await resolve(world, client.resolve('nope.example'))).toMatchObject({ code: 'ENOENT' });
    expect(await resolve(world, client.resolve('nope.example'))).toMatchObject({ code: 'ENOENT' });
    expect(script.queries).toHaveLength(1);
    await world.run(30_000);
    script.records.set('nope.example', { addresses: [ip('5.6.7.8')], ttl: 5 });
    expect(await resolve(world, client.resolve('nope.example'))).toEqual([ip('5.6.7.8')]);
  });

  it('retries with a doubling timeout and a fresh id and port each time', async () => {
    const { world, script, client } = setup();
    script.records.set('slow.example', { addresses: [ip('9.9.9.9')], ttl: 60 });
    script.drop = 2;
    const t0 = world.now;
    expect(await resolve(world, client.resolve('slow.example'))).toEqual([ip('9.9.9.9')]);
    // The first query waits for ARP (3 ms of 1 ms hops); retries leave 1 s and 3 s after it, 1 ms on the wire.
    expect(script.queries.map((q) => q.time - t0)).toEqual([3, 1001, 3001]);
    expect(new Set(script.queries.map((q) => q.id)).size).toBe(3);
    expect(new Set(script.queries.map((q) => q.port)).size).toBe(3);
    expect(client.dns.stats.retries).toBe(2);
  });

  it('moves on to the next server, and gives up with ETIMEDOUT', async () => {
    const { world, script, client } = setup(['10.0.0.99', '10.0.0.53']);
    script.records.set('a.example', { addresses: [ip('1.1.1.1')], ttl: 60 });
    expect(await resolve(world, client.resolve('a.example'))).toEqual([ip('1.1.1.1')]);
    expect(script.queries[0].time).toBeGreaterThanOrEqual(1000);
    script.drop = 100;
    const t0 = world.now;
    expect(await resolve(world, client.resolve('b.example'))).toMatchObject({ code: 'ETIMEDOUT' });
    // Four attempts: .99 (1 s), .53 (1 s), .99 (2 s), .53 (2 s).
    expect(world.now - t0).toBeGreaterThanOrEqual(6000);
    expect(client.memory().udpBound).toBe(0);
  });

  it('shares one query among concurrent lookups of a name', async () => {
    const { world, script, client } = setup();
    script.records.set('x.example', { addresses: [ip('1.1.1.1')], ttl: 60 });
    const [a, b] = await Promise.all([resolve(world, client.resolve('x.example')), resolve(world, client.resolve('X.example'))]);
    expect(a).toEqual(b);
    expect(script.queries).toHaveLength(1);
  });

  it('answers literals at once and refuses bad names and missing servers', async () => {
    const { client } = setup([]);
    await expect(client.resolve('10.1.2.3')).resolves.toEqual([ip('10.1.2.3')]);
    await expect(client.resolve('bad..name')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(client.resolve(`${'a'.repeat(64)}.com`)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(client.resolve('example.com')).rejects.toMatchObject({ code: 'ENETUNREACH' });
  });

  it('ignores answers with the wrong id, port, source or question', () => {
    let now = 0;
    const stack = new NetStack({ now: () => now, seed: 5, dns: { servers: ['10.0.0.53'] } });
    const dev = new CaptureDevice();
    stack.addInterface(dev, { address: '10.0.0.1/24' });
    const SERVER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0x53);
    dev.inject(arpFrame(arp.ArpOp.Request, SERVER_MAC, ip('10.0.0.53'), new Uint8Array(6), ip('10.0.0.1')));
    dev.take();
    let result: unknown;
    stack.resolve('host.example').then(
      (a) => (result = a),
      (e) => (result = e),
    );
    const [q] = dev.take().map(parseFrame);
    const query = dns.parseDns(q.udp?.data ?? new Uint8Array(), 0, q.udp?.data.length ?? 0);
    if (query === undefined || q.udp === undefined) throw new Error('no query sent');
    const answer = (id: number, name: string, from = ip('10.0.0.53'), sport = 53) =>
      ipFrame(
        dev.mac,
        SERVER_MAC,
        from,
        ip('10.0.0.1'),
        17,
        udpPayload(from, ip('10.0.0.1'), sport, q.udp?.srcPort ?? 0, dnsPayload({ id, response: true, truncated: false, rcode: 0, questions: [{ name, type: 1, class: 1 }], answers: [{ name, type: 1, class: 1, ttl: 60, address: ip('6.6.6.6') }] })),
      );
    dev.inject(answer(query.id ^ 1, 'host.example'));
    dev.inject(answer(query.id, 'other.example'));
    dev.inject(answer(query.id, 'host.example', ip('10.0.0.66')));
    dev.inject(answer(query.id, 'host.example', ip('10.0.0.53'), 5353));
    now += 10;
    stack.poll();
    expect(stack.dns.stats.ignored).toBe(4);
    dev.inject(answer(query.id, 'host.example'));
    return Promise.resolve().then(() => {
      expect(result).toEqual([ip('6.6.6.6')]);
      expect(dev.rxOutstanding).toBe(0);
    });
  });
});
