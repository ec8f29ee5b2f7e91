import { describe, expect, it } from 'vitest';
import type { NetBuf } from '@uk/netdev';
import type { TcpConnection } from '../src/tcp/connection.js';
import { TcpState } from '../src/tcp/state.js';
import { TcpTransport } from '../src/tcp/transport.js';
import { emitTcpHeader, finishTcpChecksum, tcpAck, tcpSeq } from '../src/wire/tcp.js';
import { A, B, buildSeg, F, FakeIp, seeded } from './tcp/harness.js';

/**
 * Random and mutated segments into the TCP layer: no exception escapes, memory stays
 * bounded, and once every connection is gone every buffer is back in its pool.
 * UK_FUZZ_CASES sets how many segments (default 200 000; 10^6 on demand).
 */

const CASES = Number(process.env.UK_FUZZ_CASES ?? 200_000);
const MAX_OOO = 64;

describe('fuzzing the TCP input path', () => {
  it(`${CASES} random and mutated segments`, () => {
    const rnd = seeded(0xf022);
    const r = (n: number): number => rnd() % n;
    let now = 0;
    const ip = new FakeIp(A, 1500);
    // Answers are released at once (the peer does not listen); half the time they ACK back, see below.
    const answers: { seq: number; ack: number; srcPort: number; dstPort: number }[] = [];
    ip.sink = (buf: NetBuf) => {
      if (buf.length >= 20) {
        if (answers.length >= 64) answers.shift();
        const b = buf.store;
        const o = buf.offset;
        answers.push({ srcPort: (b[o] << 8) | b[o + 1], dstPort: (b[o + 2] << 8) | b[o + 3], seq: tcpSeq(b, o), ack: tcpAck(b, o) });
      }
      buf.release();
    };
    const tcp = new TcpTransport(ip, () => now, { random: seeded(7), synBacklog: 16, maxOutOfOrder: MAX_OOO, maxTimeWait: 32, socket: { receiveBufferSize: 16 * 1024, sendBufferSize: 16 * 1024 } });
    const live = new Set<TcpConnection>();
    const handlers = {
      recv: (c: TcpConnection, b: NetBuf) => {
        const n = b.length;
        b.release();
        if (r(4) !== 0) c.recved(n);
      },
      end: (c: TcpConnection) => {
        if (r(2) === 0) c.close();
      },
      closed: (c: TcpConnection) => void live.delete(c),
    };
    tcp.listen({ port: 80 }, { accept: (c) => { live.add(c); c.setHandlers(handlers); return r(8) !== 0; } });
    const ports = [80, 80, 80, 81, 1234];
    const peerPorts = [5000, 5001, 5002, 5003];

    const inject = (bytes: Uint8Array, verified: boolean): void => {
      const buf = ip.pool.get(bytes.length, 64) as NetBuf;
      buf.store.set(bytes, buf.offset);
      tcp.input({ src: B, dst: A, ttl: 64, checksumVerified: verified, ifindex: 0 }, buf);
    };

    /** A segment aimed at a live connection or the listener, near the sequence numbers that matter. */
    const aimed = (): Uint8Array => {
      const conns = [...live];
      const c = conns.length > 0 && r(4) !== 0 ? conns[r(conns.length)] : null;
      const near = (x: number): number => (x + [0, 0, 0, 1, -1, 100, -100, 65535, -65535, 1 << 30, r(1 << 20)][r(11)]) >>> 0;
      const flagsPick = [F.ACK, F.ACK, F.ACK | F.PSH, F.SYN, F.SYN | F.ACK, F.RST, F.RST | F.ACK, F.FIN | F.ACK, F.FIN, 0, r(256)][r(11)];
      const spec = {
        srcPort: c?.remotePort ?? peerPorts[r(peerPorts.length)],
        dstPort: c?.localPort ?? ports[r(ports.length)],
        seq: c !== null ? near(c.rcvNxt) : r(0x7fffffff),
        ack: c !== null ? near(c.sndNxt) : r(0x7fffffff),
        flags: flagsPick,
        wnd: [0, 1, 100, 65535, r(65536)][r(5)],
        data: [0, 0, 1, 10, 536, 1460, r(2000)][r(7)],
        mss: r(3) === 0 ? [0, 1, 536, 1460, 65535][r(5)] : undefined,
        ws: r(4) === 0 ? r(20) : undefined,
        sackOk: r(3) === 0,
        ts: r(2) === 0 ? ([rnd(), rnd()] as [number, number]) : undefined,
        sack: r(4) === 0 ? [[near(c?.sndUna ?? 0), near(c?.sndNxt ?? 0)] as [number, number]] : undefined,
      };
      return buildSeg(spec, B, A);
    };

    /** Flips bits, truncates, scribbles over options. */
    const mutate = (b: Uint8Array): Uint8Array => {
      const m = b.slice(0, r(4) === 0 ? r(b.length + 1) : b.length);
      const n = r(4);
      for (let i = 0; i < n && m.length > 0; i++) m[r(m.length)] ^= 1 << r(8);
      if (r(3) === 0 && m.length > 20) {
        // Random option bytes and data offset.
        for (let i = 20; i < Math.min(m.length, 60); i++) if (r(3) === 0) m[i] = r(256);
        m[12] = (r(16) << 4) | (m[12] & 15);
      }
      if (m.length >= 20 && r(2) === 0) finishTcpChecksum(m, 0, m.length, B, A, false);
      return m;
    };

    let maxConnections = 0;
    let maxOoo = 0;
    const seen = new Set<number>();
    let maxSendMemory = 0;
    let maxOutstanding = 0;
    for (let i = 0; i < CASES; i++) {
      const k = r(100);
      if (k < 10) {
        const junk = new Uint8Array(r(80)).map(() => r(256));
        inject(junk, r(2) === 0);
      } else if (k < 50) inject(mutate(aimed()), r(3) !== 0);
      else if (k < 78) inject(aimed(), false);
      else if (k < 90 && answers.length > 0) {
        // Answer something TCP sent lately, as a peer would (completes handshakes, acknowledges data).
        const a = answers.splice(answers.length - 1 - r(Math.min(4, answers.length)), 1)[0];
        const hdr = new Uint8Array(20);
        emitTcpHeader(hdr, 0, a.dstPort, a.srcPort, a.ack, (a.seq + 1) >>> 0, 20, [F.ACK, F.SYN | F.ACK, F.FIN | F.ACK][r(3)], 65535);
        finishTcpChecksum(hdr, 0, 20, B, A, false);
        inject(hdr, false);
      } else if (k < 93) {
        now += [1, 10, 40, 200, 1000, 5000, 60_000][r(7)];
        tcp.poll(now);
      } else if (k < 96) {
        // The app does something.
        const conns = [...live];
        if (conns.length > 0) {
          const c = conns[r(conns.length)];
          try {
            switch (r(6)) {
              case 0:
                c.write(new Uint8Array(r(5000)));
                break;
              case 1:
                c.close();
                break;
              case 2:
                c.abort();
                break;
              case 3:
                c.shutdown();
                break;
              case 4:
                c.setKeepAlive(true, { idleMs: 1000, intervalMs: 500, count: 2 });
                break;
              default:
                c.recved(r(20_000));
            }
          } catch (e) {
            // Only the documented errors: writing after shutdown, or on a closed connection.
            expect(String(e)).toMatch(/EPIPE|ENOTCONN|ECONN|ETIMEDOUT|EHOSTUNREACH/);
          }
        }
      } else if (live.size < 20) {
        const c = tcp.connect({ address: B, port: peerPorts[r(peerPorts.length)] }, handlers);
        live.add(c);
      }
      tcp.poll(now);
      // Bounds: connections (live + half-open + TIME-WAIT), out-of-order pieces, buffers.
      if ((i & 15) === 0) {
        const all = tcp.connections;
        maxConnections = Math.max(maxConnections, all.length);
        for (const c of all) {
          seen.add(c.state);
          maxOoo = Math.max(maxOoo, c.reasm.count);
          maxSendMemory = Math.max(maxSendMemory, c.sendQueue.memory);
        }
      }
      maxOutstanding = Math.max(maxOutstanding, ip.pool.outstanding);
    }
    expect(maxConnections).toBeLessThanOrEqual(20 + 16 + 32 + 40);
    expect(maxOoo).toBeLessThanOrEqual(MAX_OOO);
    // The fuzzer got past the checks: connections went through the states, and every check fired.
    console.log('fuzz: states seen', [...seen].sort((a, b) => a - b).join(','), JSON.stringify(tcp.stats));
    for (const st of [TcpState.SynSent, TcpState.SynReceived, TcpState.Established, TcpState.FinWait1, TcpState.CloseWait, TcpState.LastAck]) expect(seen).toContain(st);
    expect(tcp.stats.challengeAcks).toBeGreaterThan(0);
    expect(tcp.stats.resetsIn).toBeGreaterThan(0);
    expect(tcp.stats.accepted).toBeGreaterThan(CASES / 10_000);
    expect(tcp.stats.checksumErrors).toBeGreaterThan(0);
    expect(maxSendMemory).toBeLessThanOrEqual(16 * 1024 + 2048);
    expect(maxOutstanding).toBeLessThan(20 * (MAX_OOO + 16) + 500);
    // Tear down: everything goes, every buffer comes back.
    for (const c of tcp.connections) c.abort();
    now += 3_600_000;
    tcp.poll(now);
    expect(tcp.connections.filter((c) => c.state !== TcpState.Closed)).toHaveLength(0);
    expect(ip.pool.outstanding).toBe(0);
  });
});
