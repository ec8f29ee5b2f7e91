import { describe, expect, it } from 'vitest';
import type { ThreadSpawner } from '@uk/hal';
import { Waiter } from '../src/socket/waiter.js';
import { cubic } from '../src/tcp/congestion/cubic.js';
import { tcp } from '../src/tcp/module.js';
import type { TcpSocket } from '../src/tcp/socket/stream.js';
import { type LinkSpec, Pair } from './tcp/pair.js';

/** The promise-based sockets over two TCP modules joined by a (possibly impaired) link. */

function setup(link: LinkSpec = {}, waiter?: Waiter) {
  const client = tcp({ socket: { receiveBufferSize: 64 * 1024 } });
  const server = tcp({ socket: { receiveBufferSize: 64 * 1024 } });
  const pair = new Pair({ link: { latencyMs: 1, ...link }, modules: [client, server], waiter });
  /** Drives the link until `p` settles; its value or its error. */
  const drive = async <T>(p: Promise<T>, maxMs = 3_600_000): Promise<T> => {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    p.then(
      (v) => {
        done = true;
        value = v;
      },
      (e) => {
        done = true;
        error = e;
      },
    );
    await pair.runAsync(() => done, maxMs);
    if (!done) throw new Error(`did not settle within ${maxMs} ms of virtual time`);
    if (error !== undefined) throw error;
    return value as T;
  };
  return { client, server, pair, drive };
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function readAll(s: TcpSocket): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const b = await s.read();
    if (b === null) break;
    parts.push(b);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('promise sockets', () => {
  it('listen, accept, connect, write, read, shutdown, close', async () => {
    const { client, server, drive } = setup();
    const srv = await server.listen(80);
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const s = await drive(accepting);
    expect(s.remotePort).toBe(c.localPort);
    expect(c.state).toBe('ESTABLISHED');
    await c.write(text('hello'));
    expect(str(await drive(s.read()))).toBe('hello');
    await s.write(text('world'));
    expect(str(await drive(c.read()))).toBe('world');
    await c.shutdown();
    expect(await drive(s.read())).toBeNull();
    await s.close();
    expect(await drive(c.read())).toBeNull();
    await c.close();
    await srv.close();
  });

  it('moves a megabyte each way over a lossy link, with every byte in order', async () => {
    const { client, server, drive } = setup({ loss: 0.03, reorder: 0.05, duplicate: 0.01, seed: 5 });
    const srv = await server.listen({ port: 80, backlog: 4 });
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const s = await drive(accepting);
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 17 + (i >> 12)) & 255;
    const echo = (async () => {
      // The server echoes what it reads, 4 KiB at a time through readInto.
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await s.readInto(buf);
        if (n === 0) break;
        await s.write(buf.subarray(0, n));
      }
      await s.close();
    })();
    const got = (async () => readAll(c))();
    await drive(c.write(data));
    await c.shutdown();
    const back = await drive(got);
    await drive(echo);
    expect(back.length).toBe(data.length);
    let firstDiff = -1;
    for (let i = 0; i < data.length && firstDiff < 0; i++) if (back[i] !== data[i]) firstDiff = i;
    expect(firstDiff).toBe(-1);
  });

  it('data and FIN that arrive before accept() are read after it', async () => {
    const { client, server, pair, drive } = setup();
    const srv = await server.listen(80);
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    await c.write(text('early'));
    await c.shutdown();
    await pair.runAsync(() => false, 1000);
    const s = await drive(srv.accept());
    expect(str(await drive(s.read()))).toBe('early');
    expect(await drive(s.read())).toBeNull();
  });

  it('readBuf hands over the received buffer itself', async () => {
    const { client, server, pair, drive } = setup();
    const srv = await server.listen(80);
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const s = await drive(accepting);
    await c.write(text('zero-copy'));
    const b = await drive(s.readBuf());
    expect(b).not.toBeNull();
    if (b === null) return;
    expect(str(b.store.subarray(b.offset, b.offset + b.length))).toBe('zero-copy');
    const before = pair.ipA.pool.outstanding;
    b.release();
    expect(pair.ipA.pool.outstanding).toBeLessThan(before);
  });

  it('ECONNREFUSED without a listener; EADDRINUSE for a taken port', async () => {
    const { client, server, drive } = setup();
    await expect(drive(client.connect({ address: '10.0.0.2', port: 81 }))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.listen(80);
    await expect(server.listen(80)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('ETIMEDOUT: connect with a timeout into a black hole; read with a timeout', async () => {
    const { client, server, pair, drive } = setup();
    pair.link.loss = 1;
    await expect(drive(client.connect({ address: '10.0.0.2', port: 80, timeoutMs: 5000 }))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    pair.link.loss = 0;
    const srv = await server.listen(80);
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    await drive(accepting);
    await expect(drive(c.read({ timeoutMs: 2000 }))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('connect fails with ETIMEDOUT when the SYNs go unanswered', async () => {
    const client = tcp({ synRetries: 2 });
    const server = tcp();
    const pair = new Pair({ link: { loss: 1 }, modules: [client, server] });
    let err: unknown;
    client.connect({ address: '10.0.0.2', port: 80 }).catch((e) => {
      err = e;
    });
    await pair.runAsync(() => err !== undefined, 600_000);
    expect(err).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('ECONNRESET when the peer aborts; EPIPE writing after shutdown; EBADF after close', async () => {
    const { client, server, drive } = setup();
    const srv = await server.listen(80);
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const s = await drive(accepting);
    const reading = c.read();
    s.abort();
    await expect(drive(reading)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(c.write(text('x'))).rejects.toMatchObject({ code: 'ECONNRESET' });

    const accepting2 = srv.accept();
    const c2 = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    await drive(accepting2);
    await c2.shutdown();
    await expect(c2.write(text('x'))).rejects.toMatchObject({ code: 'EPIPE' });
    const pending = c2.read();
    await c2.close();
    await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    await srv.close();
    await expect(srv.accept()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('a full accept queue refuses newcomers with RST', async () => {
    const { client, server, drive } = setup();
    const srv = await server.listen({ port: 80, backlog: 1 });
    const c1 = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const c2 = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    expect(srv.pending).toBe(1);
    await expect(drive(c2.read())).rejects.toMatchObject({ code: 'ECONNRESET' });
    const s1 = await drive(srv.accept());
    expect(s1.remotePort).toBe(c1.localPort);
  });

  it('socket options: noDelay, keep-alive, buffer sizes and congestion control per socket', async () => {
    const { client, server, pair, drive } = setup();
    const srv = await server.listen({ port: 80, options: { noDelay: true } });
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80, options: { congestionControl: cubic(), sendBufferSize: 32 * 1024 } }));
    const s = await drive(accepting);
    expect(c.conn.info().congestionControl).toBe('cubic');
    expect(c.conn.opts.sendBufferSize).toBe(32 * 1024);
    expect(s.conn.opts.noDelay).toBe(true);
    c.setNoDelay(true);
    expect(c.conn.opts.noDelay).toBe(true);
    c.setKeepAlive(true, { idleMs: 1000, intervalMs: 500, count: 2 });
    // The peer answers keep-alives: after a minute of idleness the connection is still up.
    await pair.runAsync(() => false, 60_000);
    expect(c.state).toBe('ESTABLISHED');
    expect(pair.a.stats.keepAliveProbes).toBeGreaterThan(10);
    // Now the peer vanishes: the probes go unanswered and the connection times out.
    pair.link.loss = 1;
    await expect(drive(c.read())).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('rejects bad arguments with EINVAL and use before attach with ENODEV', async () => {
    const t = tcp();
    await expect(t.connect({ address: '10.0.0.2', port: 80 })).rejects.toMatchObject({ code: 'ENODEV' });
    const { client } = setup();
    await expect(client.connect({ address: 'nowhere', port: 80 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(client.connect({ address: '10.0.0.2', port: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => tcp({ socket: { receiveBufferSize: 10 } })).not.toThrow();
    expect(() => tcp({ socket: { receiveBufferSize: 10 } }).attach({ ip: new Pair().ipA, now: () => 0, registerTransport: () => {} })).toThrow(/EINVAL/);
  });

  it('blocking calls wait through the scheduler when one is composed', async () => {
    let waits = 0;
    const spawner: ThreadSpawner = {
      spawn: (_n, fn) => fn(),
      waitFor: <T>(p: Promise<T>) => {
        waits++;
        return p;
      },
    };
    const { client, server, drive } = setup({}, new Waiter(spawner));
    const srv = await server.listen(80);
    const accepting = srv.accept();
    const c = await drive(client.connect({ address: '10.0.0.2', port: 80 }));
    const s = await drive(accepting);
    await c.write(text('x'));
    await drive(s.read());
    expect(waits).toBeGreaterThanOrEqual(3);
  });
});
