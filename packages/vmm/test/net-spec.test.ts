import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { netDevicesFromSpecs, NetSpecError, parseNetSpec, virtioNetDevice } from '../src/index.js';

function error(spec: string): NetSpecError {
  try {
    parseNetSpec(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(NetSpecError);
    expect((e as Error).message).not.toContain('\n');
    return e as NetSpecError;
  }
  throw new Error(`${spec} was accepted`);
}

describe('--net specs', () => {
  it('parses udp=HOST:PORT with localaddr, mac, pcap and mtu', () => {
    expect(parseNetSpec('udp=127.0.0.1:5555')).toEqual({ link: { kind: 'udp', remote: { host: '127.0.0.1', port: 5555 } }, mac: undefined, pcap: undefined, mtu: undefined });
    const s = parseNetSpec('udp=[::1]:6000,localaddr=:7000,mac=52:54:00:AA:bb:01,pcap=out/x.pcap,mtu=9000');
    expect(s.link).toEqual({ kind: 'udp', remote: { host: '::1', port: 6000 }, local: { host: '', port: 7000 } });
    expect([...(s.mac as Uint8Array)]).toEqual([0x52, 0x54, 0, 0xaa, 0xbb, 1]);
    expect([s.pcap, s.mtu]).toEqual(['out/x.pcap', 9000]);
    expect(parseNetSpec('localaddr=127.0.0.1:1,udp=localhost:2').link).toMatchObject({ kind: 'udp', remote: { host: 'localhost', port: 2 } });
  });

  it('parses switch[=NAME] with seeded impairments', () => {
    expect(parseNetSpec('switch').link).toEqual({ kind: 'switch', name: 'default', impairment: {} });
    expect(parseNetSpec('switch=lan,loss=0.05,dup=1%,reorder=0.02,delay=1ms,seed=42').link).toEqual({
      kind: 'switch',
      name: 'lan',
      impairment: { loss: 0.05, dup: 0.01, reorder: 0.02, delayNs: 1e6, seed: 42 },
    });
    expect(parseNetSpec('switch=a,delay=250us').link).toMatchObject({ impairment: { delayNs: 250_000 } });
    expect(parseNetSpec('switch=a,delay=2').link).toMatchObject({ impairment: { delayNs: 2e6 } });
  });

  it('rejects bad specs with a message that says what to write', () => {
    expect(error('').message).toMatch(/empty; use udp=HOST:PORT/);
    expect(error('tap=tap0').message).toMatch(/unknown option "tap=tap0"/);
    expect(error('udp=127.0.0.1').message).toMatch(/give HOST:PORT, e\.g\. udp=127\.0\.0\.1:5555/);
    expect(error('udp=127.0.0.1:0').message).toMatch(/port 0 must be a number from 1 to 65535/);
    expect(error('udp=:5555').message).toMatch(/give the host too/);
    expect(error('udp=::1:5555').message).toMatch(/\[ADDR\]:PORT/);
    expect(error('udp=1.2.3.4:5,switch').message).toMatch(/two backends/);
    expect(error('switch,localaddr=1.2.3.4:5').message).toMatch(/localaddr= goes with udp=/);
    expect(error('udp=1.2.3.4:5,loss=0.1').message).toMatch(/loss= goes with switch/);
    expect(error('switch,loss=2').message).toMatch(/probability from 0 to 1/);
    expect(error('switch,delay=fast').message).toMatch(/delay=fast must be a time/);
    expect(error('switch,seed=-1').message).toMatch(/seed=-1 must be a whole number/);
    expect(error('switch,mac=01:00:5e:00:00:01').message).toMatch(/group \(multicast\) address/);
    expect(error('switch,mac=52:54:00').message).toMatch(/not a MAC address/);
    expect(error('switch,mtu=40').message).toMatch(/mtu=40 must be a whole number from 68 to 65535/);
    expect(error('switch,mac=52:54:00:00:00:01,mac=52:54:00:00:00:02').message).toMatch(/mac is given twice/);
    expect(error('switch=a b').message).toMatch(/switch name "a b"/);
    expect(error('switch,mtu=x').spec).toBe('switch,mtu=x');
  });

  it('makes one device per spec, throwing for the first bad one', () => {
    const devs = netDevicesFromSpecs(['switch=x', 'udp=127.0.0.1:9', 'switch=x,mac=52:54:00:00:00:07']);
    expect(devs.map((d) => d.spec.link.kind)).toEqual(['switch', 'udp', 'switch']);
    expect(devs.every((d) => d.name === 'virtio-net')).toBe(true);
    expect(() => netDevicesFromSpecs(['switch', 'tap=tap0'])).toThrow(NetSpecError);
  });

  it('reports a UDP port already in use before boot', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const port = s.address().port;
    try {
      const dev = virtioNetDevice(`udp=127.0.0.1:9,localaddr=127.0.0.1:${port}`);
      await expect(dev.prepare()).rejects.toThrow(new RegExp(`--net udp=127\\.0\\.0\\.1:9,localaddr=127\\.0\\.0\\.1:${port}: cannot listen on UDP 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      const missing = virtioNetDevice('switch,pcap=/nonexistent-dir-uk/x.pcap');
      await expect(missing.prepare()).rejects.toThrow(/directory \/nonexistent-dir-uk does not exist/);
    } finally {
      s.close();
    }
  });
});
