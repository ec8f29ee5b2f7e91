import { describe, expect, it } from 'vitest';
import { dhcp, formatIpv4 } from './helpers/imports.js';
import { ip, ScriptedDhcpServer, World } from './helpers/index.js';

const T = dhcp.DhcpMessageType;

function setup(lease = { leaseSecs: 100 }, clientOpts = {}) {
  const world = new World();
  const link = world.link({ latencyMs: 1 });
  const server = world.stack();
  server.addInterface(link.port(), { address: '10.0.0.254/24' });
  const script = new ScriptedDhcpServer(server, { offer: ip('10.0.0.10'), serverId: ip('10.0.0.254'), prefix: 24, router: ip('10.0.0.1'), dns: [ip('10.0.0.53')], ...lease });
  const client = world.stack({ dhcp: clientOpts });
  client.addInterface(link.port(), { dhcp: true });
  const dc = client.dhcp(0);
  if (dc === undefined) throw new Error('no DHCP client');
  const states: Array<[number, string]> = [];
  dc.onChange((s) => states.push([world.now, s]));
  return { world, server, script, client, dc, states };
}

describe('the DHCP client', () => {
  it('gets a lease: DISCOVER, OFFER, REQUEST, ACK; configures address, route and DNS', async () => {
    const { world, script, client, dc } = setup();
    expect(await world.until(() => dc.state === 'bound', 10_000)).toBe(true);
    expect(script.log.map((e) => e.type)).toEqual([T.Discover, T.Request]);
    expect(script.log[1]).toMatchObject({ requestedIp: ip('10.0.0.10'), serverId: ip('10.0.0.254'), broadcast: true, ciaddr: 0 });
    expect(script.log[0].xid).toBe(script.log[1].xid);
    const iface = client.interfaces[0];
    expect(formatIpv4(iface.address)).toBe('10.0.0.10');
    expect(iface.prefix).toBe(24);
    expect(client.ip.sourceFor(ip('8.8.8.8'))).toBe(ip('10.0.0.10'));
    expect(client.dns.servers).toEqual([ip('10.0.0.53')]);
    expect(dc.lease).toMatchObject({ leaseTime: 100, gateway: ip('10.0.0.1') });
    const lease = dc.lease;
    expect(lease && lease.t1 - lease.acquiredAt).toBe(50_000);
    expect(lease && lease.t2 - lease.acquiredAt).toBe(87_500);
    await expect(client.whenConfigured()).resolves.toBe(iface);
  });

  it('renews with its server at T1 by unicast, and the lease starts again', async () => {
    const { world, script, dc, states } = setup();
    await world.until(() => dc.state === 'bound', 10_000);
    const bound = world.now;
    script.log.length = 0;
    await world.until(() => script.log.length > 0, 60_000);
    expect(world.now - bound).toBeGreaterThanOrEqual(50_000);
    expect(world.now - bound).toBeLessThan(50_010);
    expect(script.log[0]).toMatchObject({ type: T.Request, ciaddr: ip('10.0.0.10'), broadcast: false, requestedIp: undefined, serverId: undefined });
    await world.run(100);
    expect(dc.state).toBe('bound');
    expect(states.map((s) => s[1]).slice(-2)).toEqual(['renewing', 'bound']);
    expect((dc.lease?.t1 ?? 0) - world.now).toBeGreaterThan(49_000);
  });

  it('rebinds by broadcast at T2 when its server is silent, and keeps the address', async () => {
    const { world, script, client, dc, states } = setup({ leaseSecs: 1000 }, { minRenewRetryMs: 60_000 });
    await world.until(() => dc.state === 'bound', 10_000);
    const bound = world.now;
    script.answering = false;
    script.log.length = 0;
    await world.until(() => dc.state === 'rebinding', 1_000_000);
    expect(world.now - bound).toBeCloseTo(875_000, -1);
    // RENEWING retransmits after half the time left to T2, but at least 60 s later and only before T2:
    // 500 s, 687.5 s, 781.25 s, 841.25 s.
    const renews = script.log.filter((e) => !e.broadcast).map((e) => Math.round((e.time - bound) / 1000));
    expect(renews).toEqual([500, 688, 781, 841]);
    script.answering = true;
    await world.until(() => dc.state === 'bound', 10_000);
    const last = script.log[script.log.length - 1];
    expect(last).toMatchObject({ type: T.Request, broadcast: true, ciaddr: ip('10.0.0.10') });
    expect(states.map((s) => s[1])).toEqual(['requesting', 'bound', 'renewing', 'rebinding', 'bound']);
    expect(client.interfaces[0].address).toBe(ip('10.0.0.10'));
  });

  it('drops the address when the lease expires, and starts over', async () => {
    const { world, script, client, dc } = setup();
    await world.until(() => dc.state === 'bound', 10_000);
    const bound = world.now;
    script.answering = false;
    await world.until(() => dc.state === 'selecting', 200_000);
    expect(world.now - bound).toBeCloseTo(100_000, -1);
    expect(client.interfaces[0].configured).toBe(false);
    expect(client.ip.routes.list()).toEqual([]);
    script.answering = true;
    expect(await world.until(() => dc.state === 'bound', 100_000)).toBe(true);
  });

  it('starts over on a NAK', async () => {
    const { world, script, client, dc, states } = setup();
    await world.until(() => dc.state === 'bound', 10_000);
    script.nak = true;
    await world.until(() => dc.state === 'init', 100_000);
    expect(client.interfaces[0].configured).toBe(false);
    script.nak = false;
    await world.until(() => dc.state === 'bound', 100_000);
    expect(states.map((s) => s[1])).toEqual(['requesting', 'bound', 'renewing', 'init', 'selecting', 'requesting', 'bound']);
  });

  it('backs off DISCOVER exponentially to 64 s, with a second of jitter', async () => {
    const { world, script } = setup();
    script.answering = false;
    await world.run(300_000);
    const times = script.log.map((e) => e.time);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const nominal = [4000, 8000, 16000, 32000, 64000, 64000];
    for (let i = 0; i < nominal.length; i++) {
      expect(gaps[i]).toBeGreaterThanOrEqual(nominal[i] - 1000);
      expect(gaps[i]).toBeLessThanOrEqual(nominal[i] + 1000);
    }
    expect(script.log.every((e) => e.type === T.Discover)).toBe(true);
  });

  it('releases the lease on stop', async () => {
    const { world, script, client, dc } = setup();
    await world.until(() => dc.state === 'bound', 10_000);
    dc.stop();
    await world.run(10);
    expect(script.log[script.log.length - 1].type).toBe(T.Release);
    expect(client.interfaces[0].configured).toBe(false);
    expect(dc.state).toBe('stopped');
  });
});
