import { describe, expect, it } from 'vitest';
import type { KernelError } from '@uk/hal';
import { TcpState } from '../src/tcp/state.js';
import { activeOpen, B, F, Harness, plainHarness } from './tcp/harness.js';

/**
 * Packet-level tests of RFC 9293's state machine: each injects segments at a time and checks
 * the segments TCP answers with and the state it moves to.
 */

describe('opening', () => {
  it('active open: CLOSED → SYN-SENT → ESTABLISHED (SYN, SYN-ACK, ACK)', () => {
    const h = plainHarness();
    let connected = 0;
    const c = h.tcp.connect({ address: B, port: 80 }, { connected: () => connected++ });
    expect(c.state).toBe(TcpState.SynSent);
    const syn = h.one();
    expect(syn.flags).toBe(F.SYN);
    expect(syn.dstPort).toBe(80);
    expect(syn.srcPort).toBeGreaterThanOrEqual(49152);
    expect(syn.opts.mss).toBe(1460);
    expect(syn.checksumOk).toBe(true);
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 7000, ack: syn.seq + 1, flags: F.SYN | F.ACK, mss: 1000 });
    expect(c.state).toBe(TcpState.Established);
    expect(connected).toBe(1);
    const ack = h.one();
    expect(ack.flags).toBe(F.ACK);
    expect(ack.seq).toBe(syn.seq + 1);
    expect(ack.ack).toBe(7001);
    // The peer's MSS bounds our segments.
    expect(c.smss).toBe(1000);
  });

  it('passive open: LISTEN → SYN-RECEIVED → ESTABLISHED, accept runs once', () => {
    const h = plainHarness();
    const accepted: unknown[] = [];
    h.tcp.listen({ port: 80 }, { accept: (c) => void accepted.push(c) });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN, mss: 1200 });
    const synAck = h.one();
    expect(synAck.flags).toBe(F.SYN | F.ACK);
    expect(synAck.ack).toBe(101);
    expect(synAck.opts.mss).toBe(1460);
    const c = h.tcp.connections[0];
    expect(c.state).toBe(TcpState.SynReceived);
    expect(accepted).toHaveLength(0);
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: synAck.seq + 1, flags: F.ACK });
    expect(c.state).toBe(TcpState.Established);
    expect(accepted).toEqual([c]);
    expect(h.take()).toHaveLength(0);
  });

  it('simultaneous open: SYN-SENT → SYN-RECEIVED → ESTABLISHED', () => {
    const h = plainHarness();
    let connected = 0;
    const c = h.tcp.connect({ address: B, port: 80, localPort: 4000 }, { connected: () => connected++ });
    const syn = h.one();
    // The peer's SYN crosses ours.
    h.inject({ srcPort: 80, dstPort: 4000, seq: 5000, flags: F.SYN, mss: 1460 });
    expect(c.state).toBe(TcpState.SynReceived);
    const synAck = h.one();
    expect(synAck.flags).toBe(F.SYN | F.ACK);
    expect(synAck.seq).toBe(syn.seq);
    expect(synAck.ack).toBe(5001);
    // The peer's SYN-ACK (its answer to our SYN) completes it.
    h.inject({ srcPort: 80, dstPort: 4000, seq: 5000, ack: syn.seq + 1, flags: F.SYN | F.ACK, mss: 1460 });
    expect(c.state).toBe(TcpState.Established);
    expect(connected).toBe(1);
  });

  it('SYN-SENT: a RST that acknowledges our SYN refuses the connection (ECONNREFUSED)', () => {
    const h = plainHarness();
    const errors: KernelError[] = [];
    const c = h.tcp.connect({ address: B, port: 80 }, { error: (_c, e) => void errors.push(e) });
    const syn = h.one();
    // A RST without an acceptable ACK is ignored (RFC 5961 §3).
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 0, ack: syn.seq + 5, flags: F.RST | F.ACK });
    expect(c.state).toBe(TcpState.SynSent);
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 0, flags: F.RST });
    expect(c.state).toBe(TcpState.SynSent);
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 0, ack: syn.seq + 1, flags: F.RST | F.ACK });
    expect(c.gone).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['ECONNREFUSED']);
  });

  it('SYN-SENT: an unacceptable ACK gets a RST <SEQ=SEG.ACK>', () => {
    const h = plainHarness();
    const c = h.tcp.connect({ address: B, port: 80 });
    const syn = h.one();
    h.inject({ srcPort: 80, dstPort: syn.srcPort, seq: 9, ack: syn.seq + 1000, flags: F.SYN | F.ACK });
    const rst = h.one();
    expect(rst.flags).toBe(F.RST);
    expect(rst.seq).toBe((syn.seq + 1000) >>> 0);
    expect(c.state).toBe(TcpState.SynSent);
  });

  it('SYN-SENT: SYNs are retransmitted with exponential backoff, then ETIMEDOUT', () => {
    const h = plainHarness({ config: { synRetries: 3 } });
    const errors: string[] = [];
    h.tcp.connect({ address: B, port: 80 }, { error: (_c, e) => void errors.push(e.code) });
    const times: number[] = [];
    h.take();
    for (let t = 0; t < 20_000; t += 100) {
      h.advance(100);
      for (const s of h.take()) if (s.flags === F.SYN) times.push(h.now);
    }
    expect(times).toEqual([1000, 3000, 7000]);
    expect(errors).toEqual(['ETIMEDOUT']);
  });

  it('SYN-RECEIVED: a retransmitted SYN gets the SYN-ACK again; a RST returns to LISTEN quietly', () => {
    const h = plainHarness();
    h.tcp.listen({ port: 80 }, { accept: () => true });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const a = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const b = h.one();
    expect(b.flags).toBe(F.SYN | F.ACK);
    expect(b.seq).toBe(a.seq);
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, flags: F.RST });
    expect(h.tcp.connections).toHaveLength(0);
    expect(h.take()).toHaveLength(0);
    // The listener still works.
    h.inject({ srcPort: 5001, dstPort: 80, seq: 100, flags: F.SYN });
    expect(h.one().flags).toBe(F.SYN | F.ACK);
  });

  it('SYN-RECEIVED: an ACK of something else gets a RST; the SYN-ACK is retransmitted, then the half-open connection dropped', () => {
    const h = plainHarness({ config: { synAckRetries: 2 } });
    h.tcp.listen({ port: 80 }, { accept: () => true });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const sa = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: sa.seq + 77, flags: F.ACK });
    const rst = h.one();
    expect(rst.flags).toBe(F.RST);
    expect(rst.seq).toBe((sa.seq + 77) >>> 0);
    h.advance(1000);
    expect(h.one().flags).toBe(F.SYN | F.ACK);
    h.advance(2000);
    expect(h.one().flags).toBe(F.SYN | F.ACK);
    h.advance(4000);
    expect(h.take()).toHaveLength(0);
    expect(h.tcp.connections).toHaveLength(0);
  });

  it('a listener refuses a connection when accept returns false (RST)', () => {
    const h = plainHarness();
    h.tcp.listen({ port: 80 }, { accept: () => false });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const sa = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: sa.seq + 1, flags: F.ACK });
    expect(h.one().flags & F.RST).toBe(F.RST);
    expect(h.tcp.connections).toHaveLength(0);
  });
});

describe('closing', () => {
  it('active close: ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED after 2·MSL', () => {
    const h = plainHarness({ config: { mslMs: 1000 } });
    let closed = 0;
    const { c, irs, port } = activeOpen(h, {}, { closed: () => closed++ });
    c.close();
    expect(c.state).toBe(TcpState.FinWait1);
    const fin = h.one();
    expect(fin.flags).toBe(F.FIN | F.ACK);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.ACK });
    expect(c.state).toBe(TcpState.FinWait2);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.FIN | F.ACK });
    expect(c.state).toBe(TcpState.TimeWait);
    const ack = h.one();
    expect(ack.flags).toBe(F.ACK);
    expect(ack.ack).toBe(irs + 2);
    h.advance(1999);
    expect(c.state).toBe(TcpState.TimeWait);
    h.advance(1);
    expect(c.gone).toBe(true);
    expect(closed).toBe(1);
  });

  it('FIN-WAIT-1: FIN+ACK of our FIN goes straight to TIME-WAIT', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.close();
    const fin = h.one();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.FIN | F.ACK });
    expect(c.state).toBe(TcpState.TimeWait);
  });

  it('simultaneous close: FIN-WAIT-1 → CLOSING → TIME-WAIT', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    c.close();
    const fin = h.one();
    // Their FIN crosses ours: it does not acknowledge our FIN.
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq, flags: F.FIN | F.ACK });
    expect(c.state).toBe(TcpState.Closing);
    expect(h.one().ack).toBe(irs + 2);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 2, ack: fin.seq + 1, flags: F.ACK });
    expect(c.state).toBe(TcpState.TimeWait);
  });

  it('passive close: ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED', () => {
    const h = plainHarness();
    let ended = 0;
    let closed = 0;
    const { c, irs, port } = activeOpen(h, {}, { end: () => ended++, closed: () => closed++ });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.FIN | F.ACK });
    expect(c.state).toBe(TcpState.CloseWait);
    expect(ended).toBe(1);
    expect(h.one().ack).toBe(irs + 2);
    // We can still send in CLOSE-WAIT.
    expect(c.write(new Uint8Array(10))).toBe(10);
    const data = h.one();
    expect(data.data.length).toBe(10);
    c.close();
    expect(c.state).toBe(TcpState.LastAck);
    const fin = h.one();
    expect(fin.flags & F.FIN).toBe(F.FIN);
    expect(fin.seq).toBe(data.seq + 10);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 2, ack: fin.seq + 1, flags: F.ACK });
    expect(c.gone).toBe(true);
    expect(closed).toBe(1);
  });

  it('TIME-WAIT: a retransmitted FIN is acknowledged again and restarts 2·MSL', () => {
    const h = plainHarness({ config: { mslMs: 1000 } });
    const { c, irs, port } = activeOpen(h);
    c.close();
    const fin = h.one();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.FIN | F.ACK });
    h.take();
    h.advance(1500);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.FIN | F.ACK });
    expect(h.one().ack).toBe(irs + 2);
    h.advance(1900);
    expect(c.state).toBe(TcpState.TimeWait);
    h.advance(200);
    expect(c.gone).toBe(true);
  });

  it('TIME-WAIT ends early for a new SYN with a higher sequence number to a listener', () => {
    const h = plainHarness();
    let accepted = 0;
    h.tcp.listen({ port: 80 }, { accept: () => void accepted++ });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const sa = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: sa.seq + 1, flags: F.ACK });
    const c = h.tcp.connections[0];
    c.close();
    const fin = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: fin.seq + 1, flags: F.FIN | F.ACK });
    expect(c.state).toBe(TcpState.TimeWait);
    h.take();
    // An old-looking SYN does not end it: it gets a challenge ACK.
    h.inject({ srcPort: 5000, dstPort: 80, seq: 50, flags: F.SYN });
    expect(h.one().flags).toBe(F.ACK);
    expect(c.state).toBe(TcpState.TimeWait);
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100_000, flags: F.SYN });
    expect(c.gone).toBe(true);
    expect(h.one().flags).toBe(F.SYN | F.ACK);
    expect(accepted).toBe(1);
  });

  it('FIN-WAIT-2 gives up on a peer that never closes once the app has closed', () => {
    const h = plainHarness({ config: { finWait2TimeoutMs: 5000 } });
    const { c, irs, port } = activeOpen(h);
    c.close();
    const fin = h.one();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.ACK });
    expect(c.state).toBe(TcpState.FinWait2);
    h.advance(4999);
    expect(c.state).toBe(TcpState.FinWait2);
    h.advance(1);
    expect(c.gone).toBe(true);
  });

  it('half-close: shutdown sends FIN and data still arrives in FIN-WAIT-2', () => {
    const h = plainHarness();
    const got: number[] = [];
    const { c, irs, port } = activeOpen(h, {}, { recv: (cc, b) => { got.push(b.length); cc.recved(b.length); b.release(); } });
    c.shutdown();
    const fin = h.one();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.ACK });
    expect(c.state).toBe(TcpState.FinWait2);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: fin.seq + 1, flags: F.ACK | F.PSH, data: 300 });
    expect(got).toEqual([300]);
    expect(() => c.write(new Uint8Array(1))).toThrow(/EPIPE/);
  });

  it('close with unread data resets the connection (RFC 2525)', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h, {}, { recv: () => {} });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.ACK, data: 100 });
    h.take();
    c.close();
    const rst = h.one();
    expect(rst.flags & F.RST).toBe(F.RST);
    expect(c.gone).toBe(true);
  });

  it('close in SYN-SENT just forgets the connection', () => {
    const h = plainHarness();
    const c = h.tcp.connect({ address: B, port: 80 });
    h.take();
    c.close();
    expect(c.gone).toBe(true);
    h.advance(5000);
    expect(h.take()).toHaveLength(0);
  });

  it('shutdown in SYN-RECEIVED waits for the handshake before the FIN (RFC 9293 §3.10.4)', () => {
    const h = plainHarness();
    let conn: import('../src/tcp/connection.js').TcpConnection | null = null;
    h.tcp.listen({ port: 80 }, { accept: (c) => void (conn = c) });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const sa = h.one();
    const half = h.tcp.connections[0];
    half.shutdown();
    expect(h.take()).toHaveLength(0);
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: sa.seq + 1, flags: F.ACK });
    expect(conn).toBe(half);
    expect(half.state).toBe(TcpState.FinWait1);
    expect(h.one().flags).toBe(F.FIN | F.ACK);
  });
});

describe('resets and RFC 5961', () => {
  it('a RST exactly at RCV.NXT resets (ECONNRESET); in the window it gets a challenge ACK; outside it is ignored', () => {
    const h = plainHarness();
    const errors: string[] = [];
    const { c, irs, port } = activeOpen(h, {}, { error: (_c, e) => void errors.push(e.code) });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + 1000, flags: F.RST });
    const ch = h.one();
    expect(ch.flags).toBe(F.ACK);
    expect(ch.ack).toBe(irs + 1);
    expect(c.state).toBe(TcpState.Established);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1 + 10_000_000, flags: F.RST });
    expect(h.take()).toHaveLength(0);
    expect(c.state).toBe(TcpState.Established);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, flags: F.RST });
    expect(c.gone).toBe(true);
    expect(errors).toEqual(['ECONNRESET']);
    expect(h.take()).toHaveLength(0);
  });

  it('a SYN on an established connection gets a challenge ACK, whatever its sequence number', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h);
    for (const seq of [irs + 1, irs + 500, 12345]) {
      h.advance(600);
      h.inject({ srcPort: 80, dstPort: port, seq, flags: F.SYN });
      const s = h.one();
      expect(s.flags).toBe(F.ACK);
      expect(s.ack).toBe(irs + 1);
    }
    expect(c.state).toBe(TcpState.Established);
    expect(h.tcp.stats.challengeAcks).toBe(3);
  });

  it('challenge ACKs are rate limited', () => {
    const h = plainHarness({ config: { challengeAckLimit: 5 } });
    const { irs, port } = activeOpen(h);
    for (let i = 0; i < 20; i++) h.inject({ srcPort: 80, dstPort: port, seq: irs + 10 + i, flags: F.RST });
    expect(h.take()).toHaveLength(5);
    h.advance(1000);
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 10, flags: F.RST });
    expect(h.take()).toHaveLength(1);
  });

  it('an ACK of data never sent is answered with an ACK and dropped (RFC 5961 §5.2)', () => {
    const h = plainHarness();
    const got: number[] = [];
    const { c, irs, port } = activeOpen(h, {}, { recv: (_c, b) => { got.push(b.length); b.release(); } });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt + 5000, flags: F.ACK, data: 100 });
    const a = h.one();
    expect(a.flags).toBe(F.ACK);
    expect(a.ack).toBe(irs + 1);
    expect(got).toEqual([]);
    // A far too old ACK, likewise.
    c.write(new Uint8Array(10));
    h.take();
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndUna - 200_000, flags: F.ACK, data: 100 });
    expect(h.one().ack).toBe(irs + 1);
    expect(got).toEqual([]);
  });

  it('segments for no connection get a RST (RFC 9293 §3.10.7.1); a RST gets nothing', () => {
    const h = plainHarness();
    h.inject({ srcPort: 5000, dstPort: 81, seq: 100, flags: F.SYN });
    const r1 = h.one();
    expect(r1.flags).toBe(F.RST | F.ACK);
    expect(r1.seq).toBe(0);
    expect(r1.ack).toBe(101);
    h.inject({ srcPort: 5000, dstPort: 81, seq: 100, ack: 777, flags: F.ACK, data: 10 });
    const r2 = h.one();
    expect(r2.flags).toBe(F.RST);
    expect(r2.seq).toBe(777);
    h.inject({ srcPort: 5000, dstPort: 81, seq: 100, flags: F.RST });
    expect(h.take()).toHaveLength(0);
  });

  it('LISTEN: an ACK gets a RST, a RST is ignored', () => {
    const h = plainHarness();
    h.tcp.listen({ port: 80 }, { accept: () => true });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 1, ack: 999, flags: F.ACK });
    const r = h.one();
    expect(r.flags).toBe(F.RST);
    expect(r.seq).toBe(999);
    h.inject({ srcPort: 5000, dstPort: 80, seq: 1, flags: F.RST });
    expect(h.take()).toHaveLength(0);
    expect(h.tcp.connections).toHaveLength(0);
  });

  it('abort sends RST and reports nothing to itself', () => {
    const h = plainHarness();
    const errors: string[] = [];
    const { c } = activeOpen(h, {}, { error: (_c, e) => void errors.push(e.code) });
    c.abort();
    const r = h.one();
    expect(r.flags & F.RST).toBe(F.RST);
    expect(r.seq).toBe(c.sndNxt);
    expect(errors).toEqual([]);
  });

  it('a bad checksum is dropped', () => {
    const h = plainHarness();
    const { c, irs, port } = activeOpen(h, {}, { recv: () => { throw new Error('delivered'); } });
    h.inject({ srcPort: 80, dstPort: port, seq: irs + 1, ack: c.sndNxt, flags: F.ACK, data: 10, badChecksum: true });
    expect(h.take()).toHaveLength(0);
    expect(h.tcp.stats.checksumErrors).toBe(1);
  });
});

describe('every synchronized state answers a RST at RCV.NXT', () => {
  const cases: [string, (h: Harness) => { c: import('../src/tcp/connection.js').TcpConnection; next: number; port: number }, string | null][] = [];
  const open = (h: Harness) => {
    const o = activeOpen(h);
    return { c: o.c, next: o.irs + 1, port: o.port, irs: o.irs };
  };
  cases.push(['ESTABLISHED', (h) => open(h), 'ECONNRESET']);
  cases.push([
    'FIN-WAIT-1',
    (h) => {
      const o = open(h);
      o.c.close();
      return o;
    },
    'ECONNRESET',
  ]);
  cases.push([
    'FIN-WAIT-2',
    (h) => {
      const o = open(h);
      o.c.shutdown();
      const fin = h.one();
      h.inject({ srcPort: 80, dstPort: o.port, seq: o.next, ack: fin.seq + 1, flags: F.ACK });
      return o;
    },
    'ECONNRESET',
  ]);
  cases.push([
    'CLOSE-WAIT',
    (h) => {
      const o = open(h);
      h.inject({ srcPort: 80, dstPort: o.port, seq: o.next, ack: o.c.sndNxt, flags: F.FIN | F.ACK });
      return { ...o, next: o.next + 1 };
    },
    'ECONNRESET',
  ]);
  cases.push([
    'CLOSING',
    (h) => {
      const o = open(h);
      o.c.close();
      const fin = h.one();
      h.inject({ srcPort: 80, dstPort: o.port, seq: o.next, ack: fin.seq, flags: F.FIN | F.ACK });
      return { ...o, next: o.next + 1 };
    },
    null,
  ]);
  cases.push([
    'LAST-ACK',
    (h) => {
      const o = open(h);
      h.inject({ srcPort: 80, dstPort: o.port, seq: o.next, ack: o.c.sndNxt, flags: F.FIN | F.ACK });
      o.c.close();
      return { ...o, next: o.next + 1 };
    },
    null,
  ]);
  cases.push([
    'TIME-WAIT',
    (h) => {
      const o = open(h);
      o.c.close();
      const fin = h.one();
      h.inject({ srcPort: 80, dstPort: o.port, seq: o.next, ack: fin.seq + 1, flags: F.FIN | F.ACK });
      return { ...o, next: o.next + 1 };
    },
    null,
  ]);
  for (const [name, reach, code] of cases) {
    it(`${name} → CLOSED${code === null ? '' : ` (${code})`}`, () => {
      const h = plainHarness();
      const errors: string[] = [];
      const { c, next, port } = reach(h);
      c.setHandlers({ ...c.handlers, error: (_c, e) => void errors.push(e.code) });
      expect(c.stateName).toBe(name);
      h.take();
      h.inject({ srcPort: 80, dstPort: port, seq: next, flags: F.RST });
      expect(c.gone).toBe(true);
      expect(errors).toEqual(code === null ? [] : [code]);
      expect(h.take()).toHaveLength(0);
    });
  }

  it('SYN-RECEIVED → ESTABLISHED → CLOSE-WAIT on one segment: the handshake ACK carries data and FIN', () => {
    const h = plainHarness();
    const got: number[] = [];
    let conn: import('../src/tcp/connection.js').TcpConnection | null = null;
    h.tcp.listen({ port: 80 }, { accept: (c) => { conn = c; c.setHandlers({ recv: (_c, b) => { got.push(b.length); b.release(); } }); } });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    const sa = h.one();
    h.inject({ srcPort: 5000, dstPort: 80, seq: 101, ack: sa.seq + 1, flags: F.ACK | F.FIN | F.PSH, data: 50 });
    expect(conn).not.toBeNull();
    expect(got).toEqual([50]);
    expect((conn as unknown as { state: number }).state).toBe(TcpState.CloseWait);
    expect(h.one().ack).toBe(101 + 50 + 1);
  });

  it('LISTEN → CLOSED: a closed listener refuses with RST and drops its half-open connections', () => {
    const h = plainHarness();
    const l = h.tcp.listen({ port: 80 }, { accept: () => true });
    h.inject({ srcPort: 5000, dstPort: 80, seq: 100, flags: F.SYN });
    h.take();
    l.close();
    expect(h.tcp.connections).toHaveLength(0);
    h.inject({ srcPort: 5001, dstPort: 80, seq: 100, flags: F.SYN });
    expect(h.one().flags).toBe(F.RST | F.ACK);
  });
});

describe('listen backlog under SYN flood', () => {
  it('keeps at most synBacklog half-open connections, dropping the oldest; real clients still get in', () => {
    const h = plainHarness({ config: { synBacklog: 8 } });
    const accepted: number[] = [];
    h.tcp.listen({ port: 80 }, { accept: (c) => void accepted.push(c.remotePort) });
    for (let i = 0; i < 1000; i++) h.inject({ srcPort: 10_000 + i, dstPort: 80, seq: i * 1000, flags: F.SYN });
    const synAcks = h.take();
    expect(synAcks).toHaveLength(1000);
    expect(h.tcp.connections.length).toBe(8);
    expect(h.tcp.stats.synDropped).toBe(992);
    // A client that completes its handshake at once is accepted.
    h.inject({ srcPort: 20_000, dstPort: 80, seq: 5, flags: F.SYN });
    const sa = h.one();
    h.inject({ srcPort: 20_000, dstPort: 80, seq: 6, ack: sa.seq + 1, flags: F.ACK });
    expect(accepted).toEqual([20_000]);
    // A flooder's late ACK for a dropped half-open connection gets a RST.
    h.inject({ srcPort: 10_000, dstPort: 80, seq: 1, ack: synAcks[0].seq + 1, flags: F.ACK });
    expect(h.one().flags).toBe(F.RST);
  });

  it('EADDRINUSE for a second listener or an explicit port in use', () => {
    const h = plainHarness();
    h.tcp.listen({ port: 80 }, { accept: () => true });
    expect(() => h.tcp.listen({ port: 80 }, { accept: () => true })).toThrow(/EADDRINUSE/);
    expect(() => h.tcp.connect({ address: B, port: 80, localPort: 80 })).toThrow(/EADDRINUSE/);
    const l = h.tcp.listen({ port: 81, address: 0x0a000001 }, { accept: () => true });
    l.close();
    h.tcp.listen({ port: 81 }, { accept: () => true });
  });

  it('different remote ports get different local ports; the same port is reused only for a different peer', () => {
    const h = plainHarness();
    const ports = new Set<number>();
    for (let i = 0; i < 50; i++) ports.add(h.tcp.connect({ address: B, port: 80 }).localPort);
    expect(ports.size).toBe(50);
  });
});

describe('ICMP errors (RFC 1122 §4.2.3.9, RFC 5927)', () => {
  it('port unreachable refuses an opening connection; a quote outside the window is ignored', () => {
    const h = plainHarness();
    const errors: string[] = [];
    const c = h.tcp.connect({ address: B, port: 80 }, { error: (_c, e) => void errors.push(e.code) });
    const syn = h.one();
    const quote = (seq: number) => Uint8Array.of(syn.srcPort >> 8, syn.srcPort & 255, 0, 80, seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255);
    h.tcp.icmpError(3, 3, h.ip.local, B, quote(syn.seq + 100));
    expect(c.state).toBe(TcpState.SynSent);
    h.tcp.icmpError(3, 3, h.ip.local, B, quote(syn.seq));
    expect(c.gone).toBe(true);
    expect(errors).toEqual(['ECONNREFUSED']);
  });

  it('host unreachable is a soft error, reported if the connection then times out', () => {
    const h = plainHarness({ config: { synRetries: 1 } });
    const errors: string[] = [];
    const c = h.tcp.connect({ address: B, port: 80 }, { error: (_c, e) => void errors.push(e.code) });
    const syn = h.one();
    h.tcp.icmpError(3, 1, h.ip.local, B, Uint8Array.of(syn.srcPort >> 8, syn.srcPort & 255, 0, 80, syn.seq >>> 24, (syn.seq >>> 16) & 255, (syn.seq >>> 8) & 255, syn.seq & 255));
    expect(c.state).toBe(TcpState.SynSent);
    h.advance(10_000);
    expect(errors).toEqual(['EHOSTUNREACH']);
  });

  it('fragmentation needed shrinks the MSS to the new path MTU', () => {
    const h = plainHarness();
    const { c } = activeOpen(h);
    c.write(new Uint8Array(1460));
    const seg = h.one();
    expect(seg.data.length).toBe(1460);
    h.ip.mtu = 1000;
    h.tcp.icmpError(3, 4, h.ip.local, B, Uint8Array.of(seg.srcPort >> 8, seg.srcPort & 255, 0, 80, seg.seq >>> 24, (seg.seq >>> 16) & 255, (seg.seq >>> 8) & 255, seg.seq & 255));
    expect(c.smss).toBe(960);
  });
});

describe('the harness itself', () => {
  it('builds segments TCP accepts and parses what it sends', () => {
    const h = new Harness();
    const { c, ack } = activeOpen(h, { ws: 7, sackOk: true, ts: 1000 });
    expect(c.state).toBe(TcpState.Established);
    expect(ack.opts.ts?.[1]).toBe(1000);
  });
});
