import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { UdpPort } from '../src/index.js';

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
};

describe('the UDP link', () => {
  it('joins two ends as QEMU does (each sends to the other’s localaddr), one frame per datagram', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = new UdpPort({ remote: { host: '127.0.0.1', port: pb }, local: { host: '127.0.0.1', port: pa } });
    const b = new UdpPort({ remote: { host: 'localhost', port: pa }, local: { host: '127.0.0.1', port: pb } });
    const atA: Uint8Array[] = [];
    const atB: Uint8Array[] = [];
    a.setReceiver((f) => atA.push(f.slice()));
    b.setReceiver((f) => atB.push(f.slice()));
    await Promise.all([a.ready, b.ready]);
    const frames = Array.from({ length: 50 }, (_, i) => Uint8Array.from({ length: 60 + i * 29 }, (_, k) => (k + i) & 0xff));
    for (const f of frames) a.send(f);
    b.send(frames[3]);
    await until(() => atB.length === 50 && atA.length === 1);
    expect(atB.map((f) => f.length)).toEqual(frames.map((f) => f.length));
    atB.forEach((f, i) => expect(Buffer.compare(f, frames[i])).toBe(0));
    expect(Buffer.compare(atA[0], frames[3])).toBe(0);
    expect(a.stats).toMatchObject({ sent: 50, received: 1, strangers: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it('ignores datagrams from anyone but the remote end', async () => {
    const port = new UdpPort({ remote: { host: '127.0.0.1', port: 9 } });
    await port.ready;
    const got: Uint8Array[] = [];
    port.setReceiver((f) => got.push(f));
    const s = dgram.createSocket('udp4');
    s.send(new Uint8Array(60), port.localAddress.port, '127.0.0.1');
    await until(() => port.stats.strangers === 1);
    expect(port.stats.strangers).toBe(1);
    expect(got).toEqual([]);
    s.close();
    await port.close();
  });

  it('says why it cannot listen', async () => {
    const p = await freePort();
    const a = new UdpPort({ remote: { host: '127.0.0.1', port: 9 }, local: { host: '127.0.0.1', port: p } });
    await a.ready;
    const b = new UdpPort({ remote: { host: '127.0.0.1', port: 9 }, local: { host: '127.0.0.1', port: p } });
    await expect(b.ready).rejects.toThrow(new RegExp(`cannot listen on UDP 127\\.0\\.0\\.1:${p}: .*EADDRINUSE`));
    const c = new UdpPort({ remote: { host: 'no-such-host.invalid', port: 9 } });
    await expect(c.ready).rejects.toThrow(/cannot resolve no-such-host\.invalid/);
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
