import dgram from 'node:dgram';
import net from 'node:net';
import { driveWithHostTimers, formatIpv4, NetStack, parseIpv4, Sockets, type StackDriver, tcp, type TcpModule, type Transport, Waiter } from '@uk/net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { staticResolver, type UserNetOptions, UserNetPort } from '../src/net/user/index.js';

// The VMM's tests see @uk/netdev's types through @uk/net, as the VMM itself does.
type NetDevice = Parameters<NetStack['addInterface']>[0];
type NetBuf = Parameters<Transport['input']>[1];
const heapBuf = (length: number, headroom = 0): NetBuf => ({ store: new Uint8Array(headroom + length), offset: headroom, length, next: null, phys: -1, release() {} });
const emptyStats = () => ({ rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0, notifications: 0, interrupts: 0 });

/** The guest's NIC in these tests: frames go straight to the user network, and back a microtask later. */
class GuestNic implements NetDevice {
  readonly name = 'eth0';
  readonly mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);
  readonly mtu = 1500;
  readonly linkUp = true;
  readonly offloads = { txChecksum: false, rxChecksumVerified: false };
  readonly txHeadroom = 0;
  readonly stats = emptyStats();
  received = 0;
  #receiver: ((f: NetBuf) => void) | undefined;

  constructor(private readonly port: UserNetPort) {
    port.setReceiver((frame) => {
      const copy = heapBuf(frame.length, 0);
      copy.store.set(frame);
      this.received++;
      queueMicrotask(() => this.#receiver?.(copy));
    });
  }

  allocTx(length: number, headroom = 0): NetBuf {
    return heapBuf(length, headroom);
  }
  transmit(frames: readonly NetBuf[]): number {
    for (const f of frames) {
      this.port.send(f.store.subarray(f.offset, f.offset + f.length));
      f.release();
    }
    return frames.length;
  }
  onTxReady(): void {}
  setReceiver(h: (f: NetBuf) => void): void {
    this.#receiver = h;
  }
  onLinkChange(): void {}
}

interface Guest {
  port: UserNetPort;
  stack: NetStack;
  tcp: TcpModule;
  sockets: Sockets;
  nic: GuestNic;
  driver: StackDriver;
}

const open: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f();
});

const quiet: UserNetOptions = { log: () => {} };

/** A guest stack with DHCP behind a user network. */
async function guest(options: UserNetOptions = {}, dhcp = true): Promise<Guest> {
  const port = new UserNetPort({ ...quiet, ...options });
  const nic = new GuestNic(port);
  const stack = new NetStack({ now: () => performance.now(), dhcp: { initialRetryMs: 200 } });
  stack.addInterface(nic, dhcp ? { dhcp: true } : { address: '10.0.2.15/24', gateway: '10.0.2.2' });
  const driver = driveWithHostTimers(stack, { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) });
  const t = tcp();
  t.attach(stack);
  const sockets = new Sockets(stack, new Waiter());
  if (!dhcp) stack.dns.servers = [parseIpv4('10.0.2.3') as number];
  open.push(async () => {
    driver.stop();
    await port.close();
  });
  await port.ready;
  await stack.whenConfigured();
  return { port, stack, tcp: t, sockets, nic, driver };
}

/** A TCP server on the host's loopback; `handler` gets each socket. */
async function hostServer(handler: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function readAll(sock: { read(): Promise<Uint8Array | null> }): Promise<string> {
  let text = '';
  for (;;) {
    const d = await sock.read();
    if (d === null) return text;
    text += Buffer.from(d).toString();
  }
}

describe('the user network: gateway services', () => {
  it('leases 10.0.2.15 by DHCP with the gateway as router and the forwarder as DNS', async () => {
    const g = await guest();
    const lease = g.stack.dhcp(0)?.lease;
    expect(lease && formatIpv4(lease.address)).toBe('10.0.2.15');
    expect(lease && formatIpv4(lease.gateway)).toBe('10.0.2.2');
    expect(lease?.prefix).toBe(24);
    expect(lease?.dns.map(formatIpv4)).toEqual(['10.0.2.3']);
    expect(g.port.dhcp.leaseOf('52:54:00:12:34:56')).toBe(parseIpv4('10.0.2.15'));
  });

  it('answers ping at the gateway and at the DNS address', async () => {
    const g = await guest();
    expect(await g.stack.ping('10.0.2.2', { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(await g.stack.ping('10.0.2.3', { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
  });

  it('resolves names through the host resolver, loopback answers becoming the gateway', async () => {
    const g = await guest({ resolver: staticResolver({ 'web.test': ['127.0.0.1'], 'far.test': ['192.0.2.8', '192.0.2.9'] }) });
    expect((await g.stack.resolve('web.test')).map(formatIpv4)).toEqual(['10.0.2.2']);
    expect((await g.stack.resolve('far.test')).map(formatIpv4)).toEqual(['192.0.2.8', '192.0.2.9']);
    await expect(g.stack.resolve('nowhere.test')).rejects.toThrow();
    expect(g.port.dns.stats.nxdomain).toBe(1);
  });
});

describe('the user network: TCP to the host', () => {
  it('carries a connection to 10.0.2.2 to the host loopback, both ways and half-closed', async () => {
    const port = await hostServer((s) => {
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => s.end(`echo:${got}`));
    });
    const g = await guest();
    const sock = await g.tcp.connect({ address: '10.0.2.2', port });
    await sock.write(new TextEncoder().encode('hello from the guest'));
    await sock.shutdown();
    expect(await readAll(sock)).toBe('echo:hello from the guest');
    await sock.close();
    expect(g.port.tcp.stats.outbound).toBe(1);
  });

  it('maps any destination address through mapAddress, and moves a megabyte intact', async () => {
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7 + (i >> 8)) & 255);
    const port = await hostServer((s) => s.end(Buffer.from(big)));
    const seen: string[] = [];
    const g = await guest({ mapAddress: (a) => (seen.push(a), '127.0.0.1') });
    const sock = await g.tcp.connect({ address: '192.0.2.77', port });
    const parts: Uint8Array[] = [];
    for (;;) {
      const d = await sock.read();
      if (d === null) break;
      parts.push(d);
    }
    expect(Buffer.compare(Buffer.concat(parts), Buffer.from(big))).toBe(0);
    expect(seen).toContain('192.0.2.77');
    expect(sock.remoteAddress).toBe(parseIpv4('192.0.2.77'));
  });

  it('answers the SYN with RST when the host refuses, never with SYN-ACK first', async () => {
    const g = await guest();
    const port = await closedPort();
    const before = g.port.tcp.tcp.stats.segmentsOut;
    await expect(g.tcp.connect({ address: '10.0.2.2', port })).rejects.toThrow(/ECONNREFUSED|refused|reset/i);
    // The gateway's TCP sent nothing: the refusal is the interceptor's RST alone.
    expect(g.port.tcp.tcp.stats.segmentsOut).toBe(before);
    expect(g.port.tcp.stats.refused).toBe(1);
  });

  it('refuses everything outbound with restrict=on', async () => {
    const port = await hostServer((s) => s.end());
    const g = await guest({ restrict: true });
    await expect(g.tcp.connect({ address: '10.0.2.2', port })).rejects.toThrow();
  });

  it('passes a host reset on to the guest', async () => {
    const port = await hostServer((s) => {
      s.write('x');
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    const g = await guest();
    const sock = await g.tcp.connect({ address: '10.0.2.2', port });
    expect(Buffer.from((await sock.read()) ?? []).toString()).toBe('x');
    await expect(readAll(sock)).rejects.toThrow(/ECONNRESET|reset/i);
    expect(g.port.tcp.stats.resetsToGuest).toBe(1);
  });
});

describe('the user network: forwarded host ports', () => {
  it('forwards a host TCP port into the guest (hostfwd=tcp::0-:80)', async () => {
    const g = await guest({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 80 }] });
    const server = await g.tcp.listen(80);
    void (async () => {
      for (;;) {
        const s = await server.accept().catch(() => null);
        if (s === null) return;
        const req = await s.read();
        await s.write(new TextEncoder().encode(`you said ${Buffer.from(req ?? new Uint8Array()).toString()}`));
        await s.close();
      }
    })();
    open.push(() => server.close());
    const [fwd] = g.port.forwards;
    expect(fwd.boundPort).toBeGreaterThan(0);
    expect(g.port.describeForwards()[0]).toMatch(/^tcp 127\.0\.0\.1:\d+ -> 10\.0\.2\.15:80 {2}http:\/\/127\.0\.0\.1:\d+\/$/);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          const c = net.connect(fwd.boundPort, '127.0.0.1', () => c.write(`hi ${i}`));
          let got = '';
          c.on('data', (d) => (got += d));
          c.on('end', () => resolve(got));
          c.on('error', reject);
        }),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `you said hi ${i}`));
    expect(g.port.tcp.stats.inbound).toBe(20);
  });

  it('resets the host connection when nothing listens in the guest', async () => {
    const g = await guest({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 81 }] });
    const outcome = await new Promise<string>((resolve) => {
      const c = net.connect(g.port.forwards[0].boundPort, '127.0.0.1');
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      c.on('close', () => resolve('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(outcome);
  });

  it('says which port is taken', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    open.push(() => new Promise<void>((r) => busy.close(() => r())));
    const p = (busy.address() as net.AddressInfo).port;
    const port = new UserNetPort({ ...quiet, hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: p, guestPort: 80 }] });
    open.push(() => port.close());
    await expect(port.ready).rejects.toThrow(new RegExp(`hostfwd tcp:127.0.0.1:${p}: cannot listen: the port is in use`));
  });

  it('frees forwarded ports when closed', async () => {
    const port = new UserNetPort({ ...quiet, hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 80 }] });
    await port.ready;
    const p = port.forwards[0].boundPort;
    await port.close();
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(p, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => again.close(() => r()));
  });
});

describe('the user network: UDP', () => {
  it('carries datagrams to the host loopback and the answers back from the gateway', async () => {
    const host = dgram.createSocket('udp4');
    host.on('message', (m, r) => host.send(Buffer.concat([Buffer.from('re:'), m]), r.port, r.address));
    await new Promise<void>((r) => host.bind(0, '127.0.0.1', r));
    open.push(() => new Promise<void>((r) => host.close(() => r())));
    const g = await guest();
    const u = g.sockets.udp().bind();
    u.sendTo(new TextEncoder().encode('ping'), '10.0.2.2', host.address().port);
    const m = await u.recvFrom({ timeoutMs: 3000 });
    expect(Buffer.from(m.data).toString()).toBe('re:ping');
    expect(formatIpv4(m.address)).toBe('10.0.2.2');
    expect(m.port).toBe(host.address().port);
    u.close();
  });

  it('forwards a host UDP port into the guest and the replies back (hostfwd=udp::0-:5353)', async () => {
    const g = await guest({ hostForwards: [{ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 5353 }] });
    const u = g.sockets.udp().bind(5353);
    void (async () => {
      const m = await u.recvFrom({ timeoutMs: 5000 }).catch(() => null);
      if (m !== null) u.sendTo(new TextEncoder().encode(`guest got ${Buffer.from(m.data).toString()}`), m.address, m.port);
    })();
    const c = dgram.createSocket('udp4');
    open.push(() => new Promise<void>((r) => c.close(() => r())));
    const reply = new Promise<string>((resolve) => c.on('message', (m) => resolve(m.toString())));
    c.send('question', g.port.forwards[0].boundPort, '127.0.0.1');
    expect(await reply).toBe('guest got question');
  });
});

describe('the user network: bad input', () => {
  it('survives random and mangled frames from the guest and keeps serving', async () => {
    // Whatever address a mangled packet names, the NAT goes to the loopback only.
    const g = await guest({ resolver: staticResolver({ 'web.test': ['127.0.0.1'] }), mapAddress: () => '127.0.0.1' });
    // Frames that look like the guest's own: right MACs and types, then garbage.
    const head = Uint8Array.of(0x52, 0x55, 10, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56);
    fc.assert(
      fc.property(fc.constantFrom(0x0800, 0x0806, 0x86dd), fc.uint8Array({ minLength: 0, maxLength: 1600 }), (type, body) => {
        const f = new Uint8Array(14 + body.length);
        f.set(head);
        f[12] = type >> 8;
        f[13] = type & 255;
        f.set(body, 14);
        // Make most of them pass the IPv4 header checks so deeper code sees them.
        if (type === 0x0800 && body.length >= 20) {
          f[14] = 0x45;
          const total = Math.min(body.length, 1500);
          f[16] = total >> 8;
          f[17] = total & 255;
          f[26] = 10;
          f[27] = 0;
          f[28] = 2;
          f[29] = 15;
          f[24] = 0;
          f[25] = 0;
          let sum = 0;
          for (let i = 14; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
          while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
          const c = ~sum & 0xffff;
          f[24] = c >> 8;
          f[25] = c & 255;
        }
        g.port.send(f);
      }),
      { numRuns: Number(process.env.UK_FUZZ_CASES ?? 1500) },
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(g.port.stack.stats.internalErrors).toBe(0);
    expect((await g.stack.resolve('web.test')).map(formatIpv4)).toEqual(['10.0.2.2']);
    expect(await g.stack.ping('10.0.2.2', { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(g.port.tcp.connecting).toBeLessThanOrEqual(g.port.limits.pendingConnects);
  });
});
