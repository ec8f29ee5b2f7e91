import { describe, expect, it } from 'vitest';
import { Sockets, Waiter } from './helpers/imports.js';
import { ip, ScriptedDhcpServer, ScriptedDnsServer, World } from './helpers/index.js';

/** A client that gets its address by DHCP, resolves a name and pings it, over an impaired link. */
async function scenario(seed: number) {
  const world = new World();
  const link = world.link({ seed, loss: 0.2, duplicate: 0.1, reorder: 0.2, reorderMs: 20, latencyMs: 2, jitterMs: 3 });
  const infra = world.stack();
  infra.addInterface(link.port(), { address: '10.0.2.2/24' });
  new ScriptedDhcpServer(infra, { offer: ip('10.0.2.15'), serverId: ip('10.0.2.2'), router: ip('10.0.2.2'), dns: [ip('10.0.2.2')], leaseSecs: 600 });
  const dns = new ScriptedDnsServer(infra);
  dns.records.set('gateway.test', { addresses: [ip('10.0.2.2')], ttl: 60 });
  const guest = world.stack({ dns: { attempts: 8 } });
  guest.addInterface(link.port(), { dhcp: true });
  const events: string[] = [];
  guest.dhcp(0)?.onChange((s) => events.push(`${world.now.toFixed(3)} ${s}`));
  await world.until(() => guest.interfaces[0].configured, 300_000);
  const sockets = new Sockets(guest, new Waiter());
  let addresses: number[] | undefined;
  void sockets.resolve('gateway.test').then((a) => (addresses = a));
  await world.until(() => addresses !== undefined, 60_000);
  const rtts: number[] = [];
  for (let i = 0; i < 20; i++) {
    const p = sockets.ping(addresses?.[0] ?? 0, { timeoutMs: 200 }).then(
      (rtt) => rtts.push(rtt),
      () => rtts.push(-1),
    );
    await world.until(() => rtts.length > i, 1000);
    await p;
  }
  return { events, addresses, rtts, stats: { ...link.stats }, now: world.now, leaks: link.ports.map((p) => p.rxOutstanding) };
}

describe('stacks talking over an impaired link', () => {
  it('DHCP, DNS and ping get through loss, duplication and reordering', async () => {
    const r = await scenario(42);
    expect(r.events.at(-1)?.endsWith('bound')).toBe(true);
    expect(r.addresses).toEqual([ip('10.0.2.2')]);
    const answered = r.rtts.filter((t) => t >= 0);
    // 20% loss each way: most pings come back, some do not.
    expect(answered.length).toBeGreaterThan(8);
    expect(answered.length).toBeLessThan(20);
    for (const t of answered) expect(t).toBeGreaterThanOrEqual(4);
    expect(r.stats.lost).toBeGreaterThan(0);
    expect(r.stats.duplicated).toBeGreaterThan(0);
    expect(r.stats.reordered).toBeGreaterThan(0);
    expect(r.leaks).toEqual([0, 0]);
  });

  it('replays exactly with the same seeds', async () => {
    const [a, b] = [await scenario(7), await scenario(7)];
    expect(b).toEqual(a);
    const c = await scenario(8);
    expect(c.stats).not.toEqual(a.stats);
  });

  it('a host with two interfaces answers on both and routes replies by the table', async () => {
    const world = new World();
    const left = world.link({ latencyMs: 1 });
    const right = world.link({ latencyMs: 1 });
    const a = world.stack();
    const m = world.stack();
    const b = world.stack();
    a.addInterface(left.port(), { address: '10.1.0.2/24', gateway: '10.1.0.1' });
    m.addInterface(left.port(), { address: '10.1.0.1/24' });
    m.addInterface(right.port(), { address: '10.2.0.1/24' });
    b.addInterface(right.port(), { address: '10.2.0.2/24', gateway: '10.2.0.1' });
    const sa = new Sockets(a, new Waiter());
    const sb = new Sockets(b, new Waiter());
    const results: number[] = [];
    void sa.ping('10.2.0.1').then((t) => results.push(t));
    void sb.ping('10.1.0.1').then((t) => results.push(t));
    await world.until(() => results.length === 2, 1000);
    expect(results).toHaveLength(2);
    expect(left.stats.delivered).toBeGreaterThan(0);
    expect(right.stats.delivered).toBeGreaterThan(0);
  });
});
