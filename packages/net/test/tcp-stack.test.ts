import { type KernelContext, type ServiceKey, Services } from '@uk/hal';
import { NET_DEVICE } from '@uk/netdev';
import { VirtualClock } from '@uk/sched';
import { describe, expect, it } from 'vitest';
import { attachExtension } from '../src/component/extension.js';
import { NetKey, tcpip } from '../src/component/tcpip.js';
import { NetStack } from '../src/stack/stack.js';
import { Sockets } from '../src/socket/sockets.js';
import { Waiter } from '../src/socket/waiter.js';
import { tcp, type TcpModule } from '../src/tcp/module.js';
import { type LinkOptions, settle, TestLink, World } from './helpers/index.js';

/**
 * TCP over the real stacks: Ethernet, ARP and IPv4 of @uk/net on both sides, joined by the
 * test link (which copies every frame, so this is about correctness, not speed).
 * UK_TCP_STACK_BYTES sets the size of the lossy transfer (default 100 MiB).
 */

const BYTES = Number(process.env.UK_TCP_STACK_BYTES ?? 100 * 1024 * 1024);

function twoStacks(link: LinkOptions, withTcpOnB = true) {
  const world = new World();
  const l = world.link(link);
  const a = world.stack();
  const b = world.stack();
  a.addInterface(l.port(), { address: '10.0.0.1/24' });
  b.addInterface(l.port(), { address: '10.0.0.2/24' });
  const attach = (s: NetStack): TcpModule => attachExtension(tcp({ socket: { receiveBufferSize: 128 * 1024 } }), s, new Sockets(s, new Waiter())) as TcpModule;
  const ta = attach(a);
  const tb = withTcpOnB ? attach(b) : null;
  return { world, link: l, a, b, ta, tb };
}

describe('TCP over two @uk/net stacks', () => {
  it(`moves ${BYTES / 1024 / 1024} MiB intact through 5 % loss, duplication and reordering`, async () => {
    const { world, link, ta, tb } = twoStacks({ loss: 0.05, duplicate: 0.02, reorder: 0.05, reorderMs: 3, latencyMs: 1, capacity: 100_000 });
    if (tb === null) throw new Error('no tcp on b');
    let received = 0;
    let bad = -1;
    let ended = false;
    tb.raw.listen({ port: 80 }, {
      accept: (c) =>
        c.setHandlers({
          recv: (cc, buf) => {
            for (let i = 0; i < buf.length; i++) if (buf.store[buf.offset + i] !== ((received + i) * 7 + ((received + i) >> 11)) % 251 && bad < 0) bad = received + i;
            received += buf.length;
            cc.recved(buf.length);
            buf.release();
          },
          end: (cc) => {
            ended = true;
            cc.close();
          },
        }),
    });
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    const c = ta.raw.connect({ address: 0x0a000002, port: 80 });
    const pump = (): void => {
      while (sent < BYTES) {
        const n = Math.min(chunk.length, BYTES - sent);
        for (let i = 0; i < n; i++) chunk[i] = ((sent + i) * 7 + ((sent + i) >> 11)) % 251;
        const w = c.write(chunk.subarray(0, n));
        sent += w;
        if (w < n) return;
      }
      if (!c.shutWr) c.close();
    };
    c.setHandlers({ connected: pump, sent: pump });
    const ok = await world.until(() => ended && c.gone, 24 * 3600 * 1000);
    expect(ok).toBe(true);
    expect(bad).toBe(-1);
    expect(received).toBe(BYTES);
    expect(link.stats.lost).toBeGreaterThan(0);
    expect(link.stats.duplicated).toBeGreaterThan(0);
    expect(link.stats.reordered).toBeGreaterThan(0);
    // Every receive buffer went back to the devices.
    await world.run(1000);
    for (const p of link.ports) expect(p.rxOutstanding).toBe(0);
  });

  it('sockets through net.extension: connect, echo, close', async () => {
    const { world, ta, tb } = twoStacks({ latencyMs: 1 });
    if (tb === null) throw new Error('no tcp on b');
    const srv = await tb.listen(7);
    const served = (async () => {
      const s = await srv.accept();
      for (;;) {
        const m = await s.read();
        if (m === null) break;
        await s.write(m);
      }
      await s.close();
    })();
    let reply = '';
    let closed = false;
    const client = (async () => {
      const c = await ta.connect({ address: '10.0.0.2', port: 7 });
      await c.write(new TextEncoder().encode('ping over the stack'));
      await c.shutdown();
      for (;;) {
        const m = await c.read();
        if (m === null) break;
        reply += new TextDecoder().decode(m);
      }
      await c.close();
      closed = true;
    })();
    expect(await world.until(() => closed, 60_000)).toBe(true);
    await client;
    await served;
    expect(reply).toBe('ping over the stack');
  });

  it('a host without TCP answers with ICMP protocol unreachable: ECONNREFUSED', async () => {
    const { world, ta } = twoStacks({ latencyMs: 1 }, false);
    let err: unknown;
    ta.connect({ address: '10.0.0.2', port: 80 }).catch((e) => {
      err = e;
    });
    expect(await world.until(() => err !== undefined, 60_000)).toBe(true);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a closed port on a TCP host answers with RST: ECONNREFUSED at once', async () => {
    const { world, ta } = twoStacks({ latencyMs: 1 });
    let err: unknown;
    const t0 = world.now;
    ta.connect({ address: '10.0.0.2', port: 81 }).catch((e) => {
      err = e;
    });
    expect(await world.until(() => err !== undefined, 60_000)).toBe(true);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(world.now - t0).toBeLessThan(100);
  });
});

describe('tcpip({ tcp: tcp() }) as a kernel component', () => {
  it('plugs TCP into the component; net.extension("tcp") is the module; a guest talks to a peer', async () => {
    const clock = new VirtualClock();
    const ms = () => clock.now() / 1e6;
    const link = new TestLink(ms, { latencyMs: 1, seed: 3 });
    const guestPort = link.port('eth0');
    const peer = new NetStack({ now: ms, seed: 9 });
    peer.addInterface(link.port('peer'), { address: '10.0.2.2/24' });
    const peerTcp = attachExtension(tcp(), peer, new Sockets(peer, new Waiter())) as TcpModule;
    const services = new Map<string, unknown>([[Services.clock.id, clock]]);
    const ctx = {
      console: { write: () => {} },
      cpu: { readTime: () => clock.now() },
      provide: <T>(key: ServiceKey<T>, service: T) => void services.set(key.id, service),
      get: <T>(key: ServiceKey<T>): T => services.get(key.id) as T,
      tryGet: <T>(key: ServiceKey<T>): T | undefined => services.get(key.id) as T | undefined,
      devices: (kind: string) => (kind === NET_DEVICE ? new Map([['eth0', guestPort]]) : new Map()),
      onShutdown: () => {},
    } as unknown as KernelContext;
    const guestTcp = tcp();
    await tcpip({ address: '10.0.2.15/24', gateway: '10.0.2.2', tcp: guestTcp }).init(ctx);
    const net = ctx.get(NetKey);
    expect(net.extension('tcp')).toBe(guestTcp);
    expect(net.stack.transport(6)).toBe(guestTcp.raw);

    const srv = await peerTcp.listen(80);
    let answer = '';
    const guest = (async () => {
      const c = await guestTcp.connect({ address: '10.0.2.2', port: 80 });
      await c.write(new TextEncoder().encode('GET /'));
      const r = await c.read();
      answer = new TextDecoder().decode(r ?? new Uint8Array(0));
      await c.close();
    })();
    const server = (async () => {
      const s = await srv.accept();
      const q = await s.read();
      await s.write(new TextEncoder().encode(`200 ${new TextDecoder().decode(q ?? new Uint8Array(0))}`));
      await s.close();
    })();
    // The idle loop: settle, deliver, poll the peer, jump to the next deadline.
    for (let i = 0; i < 10_000 && answer === ''; i++) {
      await settle();
      if (link.deliver(ms()) > 0) continue;
      const next = Math.min(clock.deadline / 1e6, link.nextDelivery(), peer.poll());
      await settle();
      if (answer !== '' || !Number.isFinite(next)) break;
      clock.advanceTo(Math.max(next * 1e6, clock.now()));
    }
    expect(answer).toBe('200 GET /');
    await guest;
    await server;
  });
});
