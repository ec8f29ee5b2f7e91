import { describe, expect, it } from 'vitest';
import type { NetBuf } from '@uk/netdev';
import { activeOpen, B, F, Harness, passiveOpen, plainHarness } from './tcp/harness.js';

/** Packet-level tests of windows, window scaling, MSS, Nagle, delayed and coalesced ACKs, zero-window probing, keep-alive. */

describe('window scaling (RFC 7323 §2)', () => {
  it('announces a shift for the buffer, scales what it advertises, and applies the peer’s shift', () => {
    const h = new Harness({ config: { socket: { timestamps: false, sack: false, receiveBufferSize: 256 * 1024 } } });
    const { c, syn, ack, irs, port } = activeOpen(h, { ws: 7 });
    expect(syn.opts.ws).toBe(3);
    // The SYN's own window is never scaled.
    expect(syn.wnd).toBe(65535);
    expect(ack.wnd).toBe(262144 / 8);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.ACK, wnd: 100 });
    expect(c.sndWnd).toBe(100 << 7);
  });

  it('without the peer’s option neither side scales, and the window is at most 65535', () => {
    const h = new Harness({ config: { socket: { timestamps: false, sack: false } } });
    const { c, ack } = activeOpen(h);
    expect(c.wsOk).toBe(false);
    expect(ack.wnd).toBe(65535);
    const p = new Harness({ config: { socket: { timestamps: false, sack: false } } });
    const { synAck } = passiveOpen(p);
    expect(synAck.opts.ws).toBe(-1);
  });
});

describe('receive window', () => {
  it('closes as unread data fills the buffer, never shrinks, drops data beyond it, and reopens with a window update', () => {
    const h = plainHarness({ config: { socket: { receiveBufferSize: 4096 } } });
    const held: NetBuf[] = [];
    const { c, ack, irs, port } = activeOpen(h, {}, { recv: (_c, b) => void held.push(b) });
    expect(ack.wnd).toBe(4096);
    const send = (off: number, len: number) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + off, ack: c.sndNxt, flags: F.ACK, data: len });
    send(0, 1460);
    send(1460, 1460);
    let a = h.one();
    expect(a.ack).toBe(irs + 1 + 2920);
    // The right edge stays where it was: 4096 − 2920 left.
    expect(a.wnd).toBe(4096 - 2920);
    send(2920, 1176);
    h.advance(40);
    a = h.one();
    expect(a.wnd).toBe(0);
    // A window probe (one byte at RCV.NXT) is not taken; the ACK repeats the zero window.
    send(4096, 1);
    a = h.one();
    expect(a.ack).toBe(irs + 1 + 4096);
    expect(a.wnd).toBe(0);
    expect(held.reduce((n, b) => n + b.length, 0)).toBe(4096);
    // The app reads: a window update goes out.
    for (const b of held) b.release();
    c.recved(4096);
    a = h.one();
    expect(a.ack).toBe(irs + 1 + 4096);
    expect(a.wnd).toBe(4096);
  });

  it('receiver SWS avoidance: small reads do not move the window edge', () => {
    const h = plainHarness({ config: { socket: { receiveBufferSize: 8192 } } });
    const held: NetBuf[] = [];
    const { c, irs, port } = activeOpen(h, {}, { recv: (_c, b) => void held.push(b) });
    for (let i = 0; i < 5; i++) h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + i * 1460, ack: c.sndNxt, flags: F.ACK, data: 1460 });
    h.advance(40);
    h.take();
    const edge = c.rcvAdvRight;
    // Reading 100 bytes at a time: no window update until a useful amount is free.
    for (let i = 0; i < 10; i++) c.recved(100);
    expect(h.take()).toHaveLength(0);
    expect(c.rcvAdvRight).toBe(edge);
    c.recved(3000);
    const a = h.one();
    expect(a.wnd).toBeGreaterThan(4000);
  });
});

describe('the peer’s window', () => {
  it('zero window: sending stops; probes back off; sending resumes when the window opens', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.setNoDelay(true);
    c.write(new Uint8Array(1000));
    const d = h.one();
    // The peer takes it but has no room left.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: d.seq + 1000, flags: F.ACK, wnd: 0 });
    c.write(new Uint8Array(500));
    expect(h.take()).toHaveLength(0);
    const probes: number[] = [];
    for (let t = 0; t < 8000; t += 100) {
      h.advance(100);
      for (const s of h.take()) {
        expect(s.data.length).toBe(0);
        expect(s.seq).toBe((d.seq + 999) >>> 0);
        probes.push(h.now);
        // The peer answers each probe: still zero.
        h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: d.seq + 1000, flags: F.ACK, wnd: 0 });
      }
    }
    expect(probes.length).toBeGreaterThanOrEqual(3);
    const gaps = probes.slice(1).map((t, i) => t - probes[i]);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
    expect(c.gone).toBe(false);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: d.seq + 1000, flags: F.ACK, wnd: 65535 });
    const s = h.one();
    expect(s.data.length).toBe(500);
    expect(h.tcp.stats.windowProbes).toBe(probes.length);
  });

  it('sender SWS avoidance: no partial segment into a small window, one into half the largest window seen', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.setNoDelay(true);
    c.write(new Uint8Array(1460));
    const d = h.one();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: d.seq + 1460, flags: F.ACK, wnd: 1000 });
    c.write(new Uint8Array(1460));
    expect(h.take()).toHaveLength(0);
    // Half of the largest window ever offered (65535) is enough for a partial segment.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: d.seq + 1460, flags: F.ACK, wnd: 40000 });
    expect(h.one().data.length).toBe(1460);
  });

  it('segments never exceed the peer’s MSS or our own cap', () => {
    const h = plainHarness({ config: { socket: { maxSegmentSize: 500 } } });
    const { c, syn } = activeOpen(h, { mss: 1460 });
    expect(syn.opts.mss).toBe(500);
    c.setNoDelay(true);
    c.write(new Uint8Array(1200));
    expect(h.take().map((s) => s.data.length)).toEqual([500, 500, 200]);
  });
});

describe('Nagle (RFC 9293 §3.7.4) and corking', () => {
  it('holds a small segment while data is unacknowledged; noDelay sends at once', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.write(new Uint8Array(10));
    const first = h.one();
    c.write(new Uint8Array(10));
    c.write(new Uint8Array(10));
    expect(h.take()).toHaveLength(0);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: first.seq + 10, flags: F.ACK });
    // The held bytes went out together, in one segment.
    expect(h.one().data.length).toBe(20);
    c.setNoDelay(true);
    c.write(new Uint8Array(10));
    c.write(new Uint8Array(10));
    expect(h.take().map((s) => s.data.length)).toEqual([10, 10]);
  });

  it('write with more: true holds data until flush', () => {
    const h = plainHarness();
    const { c } = activeOpen(h);
    c.setNoDelay(true);
    c.write(new Uint8Array(100), { more: true });
    c.write(new Uint8Array(100), { more: true });
    expect(h.take()).toHaveLength(0);
    c.flush();
    expect(h.one().data.length).toBe(200);
  });
});

describe('acknowledgments', () => {
  it('delays the ACK of one segment (≤ 40 ms), acknowledges every second full segment at once', () => {
    const h = plainHarness();
    const sink = { recv: (c: { recved(n: number): void }, b: NetBuf) => { c.recved(b.length); b.release(); } };
    const { c, irs, port } = activeOpen(h, {}, sink);
    const send = (off: number, len: number) => h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + off, ack: c.sndNxt, flags: F.ACK, data: len });
    send(0, 1460);
    expect(h.take()).toHaveLength(0);
    h.advance(39);
    expect(h.take()).toHaveLength(0);
    h.advance(1);
    expect(h.one().ack).toBe(irs + 1 + 1460);
    send(1460, 1460);
    expect(h.take()).toHaveLength(0);
    send(2920, 1460);
    expect(h.one().ack).toBe(irs + 1 + 4380);
  });

  it('with delayed ACKs off, every segment is acknowledged at once', () => {
    const h = plainHarness({ config: { socket: { delayedAck: false } } });
    const { c, irs, port } = activeOpen(h, {}, { recv: (cc, b) => { cc.recved(b.length); b.release(); } });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.ACK, data: 10 });
    expect(h.one().ack).toBe(irs + 11);
  });

  it('coalesces the ACKs of a batch of segments into one, sent at the poll that ends the batch', () => {
    const h = plainHarness({ coalesce: true });
    const { c, irs, port } = activeOpen(h, {}, { recv: (cc, b) => { cc.recved(b.length); b.release(); } });
    for (let i = 0; i < 10; i++) h.injectOnly({ srcPort: 80, dstPort: port, seq: irs + 1 + i * 1460, ack: c.sndNxt, flags: F.ACK, data: 1460 });
    expect(h.take()).toHaveLength(0);
    h.tcp.poll(h.now);
    const a = h.one();
    expect(a.ack).toBe(irs + 1 + 14600);
  });

  it('out-of-order data is acknowledged at once even when coalescing (RFC 5681 §4.2)', () => {
    const h = plainHarness({ coalesce: true });
    const { c, irs, port } = activeOpen(h, {}, { recv: (cc, b) => { cc.recved(b.length); b.release(); } });
    h.injectOnly({ srcPort: 80, dstPort: port, seq: irs + 1 + 1460, ack: c.sndNxt, flags: F.ACK, data: 1460 });
    expect(h.one().ack).toBe(irs + 1);
  });
});

describe('keep-alive (RFC 9293 §3.8.4)', () => {
  it('probes an idle connection and gives up after keepCount unanswered probes', () => {
    const h = plainHarness();
    const errors: string[] = [];
    const { c } = activeOpen(h, {}, { error: (_c, e) => void errors.push(e.code) });
    c.setKeepAlive(true, { idleMs: 10_000, intervalMs: 1000, count: 3 });
    const at: number[] = [];
    for (let t = 0; t < 20_000; t += 100) {
      h.advance(100);
      for (const s of h.take()) {
        if (s.flags & F.RST) at.push(-h.now);
        else {
          expect(s.seq).toBe((c.sndUna - 1) >>> 0);
          at.push(h.now);
        }
      }
    }
    expect(at).toEqual([10_000, 11_000, 12_000, -13_000]);
    expect(errors).toEqual(['ETIMEDOUT']);
  });

  it('an answered probe keeps the connection', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.setKeepAlive(true, { idleMs: 10_000, intervalMs: 1000, count: 2 });
    for (let t = 0; t < 60_000; t += 100) {
      h.advance(100);
      for (const s of h.take()) h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: s.seq + 1, flags: F.ACK });
    }
    expect(c.gone).toBe(false);
    expect(h.tcp.stats.keepAliveProbes).toBe(6);
  });

  it('a user timeout ends a connection whose data goes unacknowledged', () => {
    const h = plainHarness({ config: { socket: { userTimeoutMs: 5000 } } });
    const errors: string[] = [];
    const { c } = activeOpen(h, {}, { error: (_c, e) => void errors.push(e.code) });
    c.write(new Uint8Array(10));
    h.advance(10_000);
    expect(errors).toEqual(['ETIMEDOUT']);
  });
});

describe('connect to an address without a route', () => {
  it('throws ENETUNREACH', () => {
    const h = plainHarness();
    h.ip.sourceFor = () => undefined as unknown as number;
    expect(() => h.tcp.connect({ address: B, port: 80 })).toThrow(/ENETUNREACH/);
  });
});
