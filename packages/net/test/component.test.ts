import { type ClockEvent, InitLevel, type KernelContext, type ServiceKey, Services } from '@uk/hal';
import { NET_DEVICE } from '@uk/netdev';
import { coop, SchedulerKey, VirtualClock } from '@uk/sched';
import { describe, expect, it } from 'vitest';
import { IpProtocol, NetKey, NetStack, type Sockets, tcpip, type Transport } from './helpers/imports.js';
import { ip, ScriptedDhcpServer, settle, TestLink } from './helpers/index.js';

/** Just enough of a KernelContext for the components under test. */
function fakeContext(clock: ClockEvent, devices: Map<string, unknown>) {
  const services = new Map<string, unknown>([[Services.clock.id, clock]]);
  const out: string[] = [];
  const shutdown: Array<() => void> = [];
  const ctx = {
    console: { write: (text: string) => out.push(text) },
    cpu: { readTime: () => clock.now() },
    provide<T>(key: ServiceKey<T>, service: T) {
      services.set(key.id, service);
    },
    get<T>(key: ServiceKey<T>): T {
      if (!services.has(key.id)) throw new Error(`no ${key.id}: compose ${key.providedBy}`);
      return services.get(key.id) as T;
    },
    tryGet<T>(key: ServiceKey<T>): T | undefined {
      return services.get(key.id) as T | undefined;
    },
    devices: (kind: string) => (kind === NET_DEVICE ? devices : new Map()),
    onShutdown: (hook: () => void) => shutdown.push(hook),
  } as unknown as KernelContext;
  return { ctx, out, shutdown };
}

/**
 * A guest on a VirtualClock (ns) joined by a TestLink to a peer stack on the same time (ms);
 * run() is the idle loop: settle, deliver, jump to the next deadline.
 */
function machine() {
  const clock = new VirtualClock();
  const ms = () => clock.now() / 1e6;
  const link = new TestLink(ms, { latencyMs: 1, seed: 3 });
  const guestPort = link.port('eth0');
  const peer = new NetStack({ now: ms, seed: 9 });
  peer.addInterface(link.port('peer'), { address: '10.0.2.2/24' });
  const run = async (done: () => boolean, maxMs = 60_000): Promise<boolean> => {
    const end = ms() + maxMs;
    for (;;) {
      await settle();
      if (done()) return true;
      if (link.deliver(ms()) > 0) continue;
      const peerNext = peer.poll();
      await settle();
      if (done()) return true;
      const next = Math.min(clock.deadline / 1e6, link.nextDelivery(), peerNext);
      if (next > end) return done();
      clock.advanceTo(Math.max(next * 1e6, clock.now()));
    }
  };
  return { clock, guestPort, peer, run };
}

describe('tcpip()', () => {
  it('is a network-level component that needs the clock and provides NetKey', () => {
    const c = tcpip({ dhcp: true });
    expect(c).toMatchObject({ name: 'tcpip', level: InitLevel.Network, package: '@uk/net' });
    expect(c.requires).toEqual([Services.clock]);
    expect(c.provides).toEqual([NetKey]);
  });

  it('configures every device statically and drives the stack from the clock alone', async () => {
    const m = machine();
    const peerStack = m.peer;
    const { ctx } = fakeContext(m.clock, new Map([['eth0', m.guestPort]]));
    let attachedWith: [NetStack, Sockets] | undefined;
    const fakeTcp: Transport = { protocol: IpProtocol.TCP, input: (_i, b) => b.release(), poll: () => Number.POSITIVE_INFINITY };
    await tcpip({
      address: '10.0.2.15/24',
      gateway: '10.0.2.2',
      dns: ['10.0.2.3'],
      tcp: (stack, sockets) => {
        attachedWith = [stack, sockets];
        stack.registerTransport(fakeTcp);
        return { connect: 'api' };
      },
    }).init(ctx);
    const net = ctx.get(NetKey);
    expect(attachedWith?.[0]).toBe(net.stack);
    expect(net.extension('tcp')).toEqual({ connect: 'api' });
    expect(net.stack.transport(IpProtocol.TCP)).toBe(fakeTcp);
    expect(net.stack.dns.servers).toEqual([ip('10.0.2.3')]);
    expect(await net.ready).toBe(net.stack.interfaces[0]);
    // The peer pings the guest; the guest's socket hears the peer.
    const server = net.udp().bind(7);
    const rtt = peerStack.ping('10.0.2.15');
    let pinged: number | undefined;
    void rtt.then((v) => (pinged = v));
    expect(await m.run(() => pinged !== undefined)).toBe(true);
    // 3 ms, not 4: the guest's gratuitous ARP at init answers the peer's pending resolution.
    expect(pinged).toBe(3);
    const got = server.recvFrom();
    let data: Uint8Array | undefined;
    void got.then((d) => (data = d.data));
    const pcb = peerStack.udp.bind(0, 0, () => {});
    pcb.sendTo(Uint8Array.of(1, 2), ip('10.0.2.15'), 7);
    expect(await m.run(() => data !== undefined)).toBe(true);
    expect([...(data ?? [])]).toEqual([1, 2]);
    // Timers run through the ClockEvent: a ping to nobody times out.
    const lost = net.ping('10.0.2.99', { timeoutMs: 300 }).catch((e: { code: string }) => e.code);
    let code: string | undefined;
    void lost.then((c) => (code = c as string));
    expect(await m.run(() => code !== undefined)).toBe(true);
    expect(code).toBe('ETIMEDOUT');
  });

  it('with a scheduler: uses its timers, and socket calls block only the calling thread', async () => {
    const m = machine();
    const peerStack = m.peer;
    const dhcpServer = new ScriptedDhcpServer(peerStack, { offer: ip('10.0.2.15'), serverId: ip('10.0.2.2'), router: ip('10.0.2.2'), dns: [ip('10.0.2.3')], leaseSecs: 3600 });
    const { ctx } = fakeContext(m.clock, new Map([['eth0', m.guestPort]]));
    await coop().init(ctx);
    await tcpip({ dhcp: true }).init(ctx);
    const net = ctx.get(NetKey);
    const sched = ctx.get(SchedulerKey);
    expect(await m.run(() => net.stack.interfaces[0].configured)).toBe(true);
    expect(dhcpServer.log.length).toBeGreaterThanOrEqual(2);
    expect(net.stack.dns.servers).toEqual([ip('10.0.2.3')]);
    const order: string[] = [];
    const receiver = sched.spawn('receiver', async () => {
      const s = net.udp().bind(9);
      order.push('receiver waits');
      const msg = await s.recvFrom({ timeoutMs: 5000 });
      order.push(`receiver got ${msg.data[0]}`);
      const late = await s.recvFrom({ timeoutMs: 200 }).catch((e: { code: string }) => e.code);
      order.push(`receiver then ${late}`);
    });
    sched.spawn('other', async () => {
      order.push('other runs');
    });
    await m.run(() => order.length >= 2);
    expect(order).toEqual(['receiver waits', 'other runs']);
    peerStack.udp.bind(0, 0, () => {}).sendTo(Uint8Array.of(5), ip('10.0.2.15'), 9);
    await m.run(() => receiver.state === 'exited');
    expect(order).toEqual(['receiver waits', 'other runs', 'receiver got 5', 'receiver then ETIMEDOUT']);
  });

  it('says so when there is no network device, and still provides the stack', async () => {
    const clock = new VirtualClock();
    const { ctx, out } = fakeContext(clock, new Map());
    await tcpip({ dhcp: true }).init(ctx);
    expect(out.join('')).toContain('no network device');
    expect(ctx.get(NetKey).stack.interfaces).toHaveLength(0);
  });

  it('refuses dhcp together with a static address', async () => {
    const { ctx } = fakeContext(new VirtualClock(), new Map());
    expect(() => tcpip({ dhcp: true, address: '10.0.0.1/24' }).init(ctx)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
