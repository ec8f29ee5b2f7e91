import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkImpairment, NetSwitch } from '../src/index.js';

const mac = (n: number) => Uint8Array.of(0x02, 0, 0, 0, 0, n);
const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

function eth(dst: Uint8Array, src: Uint8Array, seq: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  new DataView(f.buffer).setUint32(14, seq);
  return f;
}

const seqOf = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).getUint32(14);

/** A switch with n endpoints that record the sequence numbers they receive. */
function lan(n: number, options: Parameters<NetSwitch['attach']>[0] = {}) {
  const sw = new NetSwitch('test');
  const got: number[][] = [];
  const ports = Array.from({ length: n }, (_, i) => {
    const p = sw.attach({ ...options, label: `h${i}` });
    got.push([]);
    p.setReceiver((f) => got[i].push(seqOf(f)));
    return p;
  });
  return { sw, ports, got };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the learning switch', () => {
  it('floods unknown and group destinations, then sends to the learned port only', () => {
    const { sw, ports, got } = lan(3);
    ports[0].send(eth(mac(2), mac(1), 1));
    expect(got).toEqual([[], [1], [1]]);
    ports[1].send(eth(mac(1), mac(2), 2));
    expect(got).toEqual([[2], [1], [1]]);
    ports[0].send(eth(mac(2), mac(1), 3));
    expect(got).toEqual([[2], [1, 3], [1]]);
    ports[2].send(eth(BROADCAST, mac(3), 4));
    expect(got).toEqual([[2, 4], [1, 3, 4], [1]]);
    expect(sw.addresses()).toEqual(
      new Map([
        ['02:00:00:00:00:01', 'h0'],
        ['02:00:00:00:00:02', 'h1'],
        ['02:00:00:00:00:03', 'h2'],
      ]),
    );
    expect(sw.stats).toMatchObject({ frames: 4, unicast: 2, flooded: 2 });
  });

  it('does not send a frame back to the port its destination lives on, and forgets detached ports', () => {
    const { sw, ports, got } = lan(3);
    ports[0].send(eth(BROADCAST, mac(1), 1));
    // Address 1 moves to port 1, and the frame to it stays there.
    ports[1].send(eth(mac(1), mac(1), 2));
    expect(sw.stats.filtered).toBe(1);
    ports[2].send(eth(mac(1), mac(3), 3));
    expect(got[1]).toEqual([1, 3]);
    ports[1].close();
    ports[2].send(eth(mac(1), mac(3), 4));
    expect(got[0]).toEqual([4]);
    expect(sw.portCount).toBe(2);
  });

  it('forwards frames a receiver sends from inside its callback after the current one, in order', () => {
    const sw = new NetSwitch('reentrant');
    const a = sw.attach({ label: 'a' });
    const b = sw.attach({ label: 'b' });
    const order: string[] = [];
    b.setReceiver((f) => {
      order.push(`b${seqOf(f)}`);
      if (seqOf(f) < 3) b.send(eth(mac(1), mac(2), seqOf(f) + 10));
    });
    a.setReceiver((f) => order.push(`a${seqOf(f)}`));
    a.send(eth(BROADCAST, mac(1), 1));
    a.send(eth(mac(2), mac(1), 2));
    expect(order).toEqual(['b1', 'a11', 'b2', 'a12']);
  });

  it('gives the same seed the same losses, duplicates and reorderings, and another seed others', () => {
    const run = (seed: number) => {
      const { ports, got } = lan(2, { loss: 0.05, dup: 0.01, reorder: 0.02, seed });
      ports[0].send(eth(BROADCAST, mac(1), 0));
      for (let i = 1; i < 5000; i++) ports[0].send(eth(mac(2), mac(1), i));
      return { got: got[1], imp: ports[0].impairment };
    };
    const a = run(42);
    const b = run(42);
    const c = run(43);
    expect(b.got).toEqual(a.got);
    expect(c.got).not.toEqual(a.got);
    // Both cables of the path impair: 5000 frames through two lossy links.
    const lost = 5000 - new Set(a.got).size;
    expect(lost).toBeGreaterThan(5000 * (1 - 0.95 * 0.95) * 0.7);
    expect(lost).toBeLessThan(5000 * (1 - 0.95 * 0.95) * 1.3);
    expect(a.got.length).toBeGreaterThan(new Set(a.got).size);
    let inversions = 0;
    for (let i = 1; i < a.got.length; i++) if (a.got[i] < a.got[i - 1]) inversions++;
    expect(inversions).toBeGreaterThan(0);
    expect(a.imp?.inbound.lost).toBeGreaterThan(0);
  });

  it('a held-back frame follows the next one, or goes on its own if none comes', async () => {
    const got: number[] = [];
    const imp = new LinkImpairment({ reorder: 1, seed: 7 }, (f) => got.push(seqOf(f)));
    imp.pass(eth(mac(2), mac(1), 1));
    expect(got).toEqual([]);
    imp.pass(eth(mac(2), mac(1), 2));
    expect(got).toEqual([2, 1]);
    imp.pass(eth(mac(2), mac(1), 3));
    expect(got).toEqual([2, 1]);
    await wait(30);
    expect(got).toEqual([2, 1, 3]);
    imp.close();
  });

  it('delays frames without reordering them, and close drops what is on its way', async () => {
    const got: number[] = [];
    const imp = new LinkImpairment({ delayNs: 2e6 }, (f) => got.push(seqOf(f)));
    for (let i = 0; i < 5; i++) imp.pass(eth(mac(2), mac(1), i));
    expect(got).toEqual([]);
    await wait(40);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    imp.pass(eth(mac(2), mac(1), 9));
    imp.close();
    await wait(20);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(imp.stats).toMatchObject({ passed: 6, delayed: 6 });
  });

  it('without impairment loses, duplicates and reorders nothing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 200 }), (dests) => {
        const { ports, got } = lan(4);
        // Every host announces itself first, so everything after is unicast.
        ports.forEach((p, i) => p.send(eth(BROADCAST, mac(i + 1), 100_000 + i)));
        const expected: number[][] = [[], [], [], []];
        dests.forEach((d, k) => {
          const from = (d + 1) % 4;
          ports[from].send(eth(mac(d + 1), mac(from + 1), k));
          expected[d].push(k);
        });
        got.forEach((g, i) => expect(g.filter((s) => s < 100_000)).toEqual(expected[i]));
      }),
      { numRuns: 50 },
    );
  });

  it('is shared by name within a process', () => {
    const a = NetSwitch.named('shared-test');
    expect(NetSwitch.named('shared-test')).toBe(a);
    NetSwitch.forget('shared-test');
    expect(NetSwitch.named('shared-test')).not.toBe(a);
  });
});
