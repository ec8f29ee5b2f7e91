// TCP benchmark: bulk throughput and request/response round trips between two uk TCP
// endpoints in one process, against Node's own net module over loopback measured in the same
// run (the kernel's TCP with real sockets) — and, for reference, the figure tcpip.js (lwIP
// compiled to wasm) claims: "over 500 Mbps".
// Build first (pnpm --filter @uk/net build), then:  node bench/tcp/index.mjs
// UK_BENCH_BYTES: bytes per bulk run (default 256 MiB); UK_BENCH_RPC_MS: ms per round-trip run
// (default 1500); UK_BENCH_ROUNDS: runs per row, the best counts (default 3); UK_BENCH_ONLY: run
// only the rows whose name contains this text (for profiling). The "guest ↔ Linux through TAP"
// rows boot the interop test's kernel (packages/net/test/interop/fixtures/tapnet) on a real TAP
// device and need root, /dev/net/tun, socat and ip, and packages/cli and packages/vmm built;
// UK_BENCH_TAP_BYTES: bytes each way (default 64 MiB).
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from '../table.mjs';

const dist = new URL('../../packages/net/dist/index.js', import.meta.url);
const netdevDist = new URL('../../packages/netdev/dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(dist)) || !existsSync(fileURLToPath(netdevDist))) {
  console.error('packages/net/dist or packages/netdev/dist is missing: build them first with  pnpm --filter @uk/net... build');
  process.exit(1);
}
const { TcpTransport, NetStack, tcp } = await import(dist.href);
const { emptyStats } = await import(netdevDist.href);

const BYTES = Number(process.env.UK_BENCH_BYTES ?? 256 * 1024 * 1024);
const RPC_MS = Number(process.env.UK_BENCH_RPC_MS ?? 1500);
const ROUNDS = Number(process.env.UK_BENCH_ROUNDS ?? 3);
const ONLY = process.env.UK_BENCH_ONLY;
const wanted = (name) => ONLY === undefined || name.includes(ONLY);
const CHUNK = 256 * 1024;
const A = 0x0a000001;
const B = 0x0a000002;
const now = () => performance.now();

/** Buffers by size class, reused, as a device's pool would be. */
class Pool {
  free = new Map();
  get(length, headroom) {
    const need = length + headroom;
    const size = need <= 256 ? 256 : need <= 2048 ? 2048 : need <= 9216 ? 9216 : 65_664;
    const list = this.free.get(size);
    const b = list?.pop();
    if (b !== undefined) {
      b.offset = headroom;
      b.length = length;
      b.next = null;
      return b;
    }
    const pool = this;
    const buf = {
      store: new Uint8Array(size),
      offset: headroom,
      length,
      next: null,
      phys: -1,
      release() {
        let l = pool.free.get(size);
        if (l === undefined) pool.free.set(size, (l = []));
        l.push(buf);
      },
    };
    return buf;
  }
}

/**
 * Two TCP transports joined directly (no IP, no Ethernet): what TCP alone costs. Segments
 * are handed over as they are (zero copy), delivered in batches, and both sides polled after
 * each batch (ACK coalescing).
 */
function tcpOnlyPair(mtu, offload) {
  const queues = new Map([
    [A, []],
    [B, []],
  ]);
  const mkIp = (local) => {
    const pool = new Pool();
    return {
      allocBuf: (_dst, length) => pool.get(length, 64),
      output(buf, src, dst) {
        queues.get(dst).push(buf, src);
        return 'sent';
      },
      sourceFor: () => local,
      mtuFor: () => mtu - 20,
      txChecksumOffload: () => offload,
      isLocal: (a) => a === local,
      sendUnreachable: (_i, b) => b.release(),
    };
  };
  const wake = { wake() {} };
  const a = new TcpTransport(mkIp(A), now, { socket: { receiveBufferSize: 1 << 20, sendBufferSize: 1 << 20 } }, wake);
  const b = new TcpTransport(mkIp(B), now, { socket: { receiveBufferSize: 1 << 20, sendBufferSize: 1 << 20 } }, wake);
  const info = { src: 0, dst: 0, ttl: 64, checksumVerified: offload, ifindex: 0 };
  const pump = () => {
    let moved = 0;
    for (const [dst, t] of [
      [B, b],
      [A, a],
    ]) {
      const q = queues.get(dst);
      if (q.length === 0) continue;
      queues.set(dst, []);
      for (let i = 0; i < q.length; i += 2) {
        info.src = q[i + 1];
        info.dst = dst;
        t.input(info, q[i]);
      }
      moved += q.length / 2;
    }
    const t = now();
    a.poll(t);
    b.poll(t);
    return moved;
  };
  return { client: a, server: b, serverAddr: B, pump };
}

/** A pair of in-process NetDevices (a cable): what one transmits the other receives. */
function cable(mtu) {
  const mk = (name, mac) => {
    const dev = {
      name,
      mac: Uint8Array.of(2, 0, 0, 0, 0, mac),
      mtu,
      linkUp: true,
      offloads: { txChecksum: true, rxChecksumVerified: true },
      txHeadroom: 0,
      stats: emptyStats(),
      pool: new Pool(),
      peer: null,
      rx: null,
      queue: [],
      allocTx(length, headroom = 0) {
        return dev.pool.get(length, headroom);
      },
      transmit(frames) {
        for (const f of frames) dev.peer.queue.push(f);
        return frames.length;
      },
      onTxReady() {},
      setReceiver(h) {
        dev.rx = h;
      },
      onLinkChange() {},
    };
    return dev;
  };
  const x = mk('eth0', 1);
  const y = mk('eth0', 2);
  x.peer = y;
  y.peer = x;
  return [x, y];
}

/** Two full uk stacks (Ethernet, ARP, IPv4, TCP) joined by an in-process cable. */
function stackPair(mtu) {
  const [dx, dy] = cable(mtu);
  const mk = (dev, addr) => {
    const s = new NetStack({ now, seed: addr.length });
    s.addInterface(dev, { address: `${addr}/24` });
    const t = tcp({ socket: { receiveBufferSize: 1 << 20, sendBufferSize: 1 << 20 } });
    t.attach(s);
    return { s, t };
  };
  const a = mk(dx, '10.0.0.1');
  const b = mk(dy, '10.0.0.2');
  const pump = () => {
    let moved = 0;
    for (const [dev, st] of [
      [dy, b.s],
      [dx, a.s],
    ]) {
      const q = dev.queue;
      if (q.length === 0) continue;
      dev.queue = [];
      for (const f of q) dev.rx(f);
      moved += q.length;
    }
    a.s.poll();
    b.s.poll();
    return moved;
  };
  return { client: a.t.raw, server: b.t.raw, serverAddr: B, pump };
}

/** Bulk transfer client → server over the raw API; returns Gbit/s. */
function bulk(env, bytes) {
  const data = new Uint8Array(CHUNK).map((_, i) => (i * 7) & 255);
  let received = 0;
  env.server.listen(
    { port: 5001 },
    {
      accept(c) {
        c.setHandlers({
          recv(cc, buf) {
            // A spot check that the stream is the one sent (byte p is data[p mod CHUNK]).
            if (buf.store[buf.offset] !== data[received % CHUNK]) throw new Error(`wrong byte at ${received}`);
            received += buf.length;
            cc.recved(buf.length);
            buf.release();
          },
        });
      },
    },
  );
  let sent = 0;
  let conn = null;
  const fill = () => {
    while (sent < bytes) {
      const at = sent % CHUNK;
      const n = conn.write(data.subarray(at, Math.min(CHUNK, at + bytes - sent)));
      if (n === 0) break;
      sent += n;
    }
  };
  conn = env.client.connect({ address: env.serverAddr, port: 5001 }, { connected: fill, sent: fill });
  const t0 = now();
  let idle = 0;
  while (received < bytes) {
    if (env.pump() === 0 && ++idle > 1000) throw new Error(`stalled at ${received} of ${bytes} bytes (${JSON.stringify(conn.info())})`);
    else idle = 0;
  }
  const ms = now() - t0;
  if (received !== bytes) throw new Error(`received ${received} of ${bytes} bytes`);
  conn.close();
  for (let i = 0; i < 10; i++) env.pump();
  return (bytes * 8) / (ms / 1000) / 1e9;
}

/** Request/response (64 bytes each way, no delay) for `ms`; returns round trips per second. */
function rpc(env, ms) {
  const req = new Uint8Array(64);
  env.server.listen(
    { port: 5002 },
    {
      accept(c) {
        c.setNoDelay(true);
        c.setHandlers({
          recv(cc, buf) {
            const n = buf.length;
            buf.release();
            cc.recved(n);
            cc.write(req);
          },
        });
      },
    },
  );
  let trips = 0;
  let got = 0;
  const conn = env.client.connect(
    { address: env.serverAddr, port: 5002, options: { noDelay: true } },
    {
      connected: (c) => c.write(req),
      recv(c, buf) {
        got += buf.length;
        c.recved(buf.length);
        buf.release();
        if (got >= 64) {
          got -= 64;
          trips++;
          c.write(req);
        }
      },
    },
  );
  while (conn.stateName !== 'ESTABLISHED') env.pump();
  const start = trips;
  const t0 = now();
  while (now() - t0 < ms) for (let i = 0; i < 64; i++) env.pump();
  const rate = (trips - start) / ((now() - t0) / 1000);
  conn.abort();
  return rate;
}

/** Node's net over loopback, both ends in this process. */
async function nodeBulk(bytes) {
  const data = Buffer.alloc(CHUNK, 7);
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      let got = 0;
      let t0 = 0;
      s.on('data', (d) => {
        if (got === 0) t0 = now();
        got += d.length;
        if (got >= bytes) {
          const ms = now() - t0;
          s.destroy();
          server.close();
          resolve((bytes * 8) / (ms / 1000) / 1e9);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1', () => {
        let sent = 0;
        const write = () => {
          while (sent < bytes) {
            sent += CHUNK;
            if (!c.write(data)) {
              c.once('drain', write);
              return;
            }
          }
          c.end();
        };
        write();
      });
      c.on('error', () => {});
    });
    server.on('error', reject);
  });
}

async function nodeRpc(ms) {
  const req = Buffer.alloc(64, 1);
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.setNoDelay(true);
      let got = 0;
      s.on('data', (d) => {
        got += d.length;
        while (got >= 64) {
          got -= 64;
          s.write(req);
        }
      });
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1', () => {
        c.setNoDelay(true);
        let trips = 0;
        let got = 0;
        const t0 = now();
        c.on('data', (d) => {
          got += d.length;
          while (got >= 64) {
            got -= 64;
            trips++;
            if (now() - t0 >= ms) {
              const rate = trips / ((now() - t0) / 1000);
              c.destroy();
              server.close();
              resolve(rate);
              return;
            }
            c.write(req);
          }
        });
        c.write(req);
      });
      c.on('error', () => {});
    });
  });
}

/**
 * A uk guest (inline mode) on a real TAP device, against Linux's TCP: Linux connects and sends
 * (sink), then connects and receives (source). Returns MB/s each way, or the reason it cannot run.
 */
async function tapBulk(bytes) {
  const interop = '../../packages/net/test/interop/';
  const { tapMissing, reserveTap, waitFor } = await import(new URL(`${interop}tap-host.mjs`, import.meta.url).href);
  const { hostClient, within } = await import(new URL(`${interop}host-peer.mjs`, import.meta.url).href);
  const missing = tapMissing();
  if (missing.length > 0) return `skipped: needs ${missing.join(', ')}`;
  const cliDist = new URL('../../packages/cli/dist/index.js', import.meta.url);
  const vmmDist = new URL('../../packages/vmm/dist/index.js', import.meta.url);
  if (!existsSync(fileURLToPath(cliDist)) || !existsSync(fileURLToPath(vmmDist))) return 'skipped: build packages/cli and packages/vmm first';
  const { buildApp, findApp } = await import(cliDist.href);
  const { Machine, readImage, virtioNetDevice } = await import(vmmDist.href);
  const fixture = fileURLToPath(new URL(`${interop}fixtures/tapnet`, import.meta.url));
  const { imagePath } = await buildApp(findApp(fixture), mkdtempSync(join(tmpdir(), 'uk-bench-tap-')));
  const tap = await reserveTap('b');
  try {
    const nic = virtioNetDevice(tap.nicSpec);
    await nic.prepare();
    await tap.start();
    let output = '';
    const machine = new Machine({
      image: readImage(imagePath),
      mode: 'inline',
      bootargs: `ADDR=${tap.guestCidr} HOST=${tap.hostIp} BYTES=${bytes} -- tapnet sink source`,
      devices: [nic],
      timeoutMs: 600_000,
      output: (b) => {
        output += new TextDecoder().decode(b);
      },
    });
    const done = machine.run();
    const line = (re) => waitFor(() => re.test(output), 300_000, `${re} from the guest: ${output}`);
    await line(/sink listening/);
    const sent = await within(300_000, 'Linux → uk', hostClient(tap.guestIp, 7000, 'send', bytes));
    await line(/sink bytes=\d+ fnv=/);
    await line(/source listening/);
    const got = await within(300_000, 'uk → Linux', hostClient(tap.guestIp, 7001, 'recv'));
    await line(/tapnet done/);
    await within(30_000, 'power-off', done);
    const sums = [...output.matchAll(/(?:sink|source) bytes=(\d+) fnv=([0-9a-f]{8})/g)].map((m) => m[2]);
    if (sums[0] !== sent.sum || sums[1] !== got.sum || got.bytes !== bytes) return `failed: checksums differ (${JSON.stringify({ sums, sent, got })})`;
    return { in: bytes / 1e6 / (sent.ms / 1000), out: bytes / 1e6 / (got.ms / 1000) };
  } finally {
    tap.close();
  }
}

function best(f) {
  let b = 0;
  for (let i = 0; i < ROUNDS; i++) b = Math.max(b, f());
  return b;
}

async function bestAsync(f) {
  let b = 0;
  for (let i = 0; i < ROUNDS; i++) b = Math.max(b, await f());
  return b;
}

const MiB = BYTES / (1024 * 1024);
const nodeGbps = wanted('Node') ? await bestAsync(() => nodeBulk(BYTES)) : Number.NaN;
const rows = [];
const bulkRow = (name, make) => {
  if (!wanted(name)) return;
  const g = best(() => bulk(make(), BYTES));
  rows.push([name, g, g / nodeGbps, g / 0.5]);
};
bulkRow('uk TCP ↔ uk TCP, MTU 1500, checksum offload', () => tcpOnlyPair(1500, true));
bulkRow('uk TCP ↔ uk TCP, MTU 1500, software checksums', () => tcpOnlyPair(1500, false));
bulkRow('uk TCP ↔ uk TCP, MTU 65535 (loopback-sized)', () => tcpOnlyPair(65535, true));
bulkRow('uk stack ↔ uk stack (Ethernet, ARP, IPv4), MTU 1500', () => stackPair(1500));
bulkRow('uk stack ↔ uk stack, MTU 9000', () => stackPair(9000));
rows.push(['Node net ↔ Node net, loopback (baseline)', nodeGbps, 1, nodeGbps / 0.5]);
rows.push(['tcpip.js (lwIP in wasm), as claimed', 0.5, 0.5 / nodeGbps, 1]);
if (wanted('TAP')) {
  const TAP_BYTES = Number(process.env.UK_BENCH_TAP_BYTES ?? 64 * 1024 * 1024);
  const r = await tapBulk(TAP_BYTES).catch((e) => `failed: ${e.message}`);
  if (typeof r === 'string') {
    console.warn(`guest ↔ Linux through TAP: ${r}`);
    rows.push(['guest ↔ Linux through TAP', r, '', '']);
  } else {
    for (const [dir, mbs] of [
      ['Linux → uk', r.in],
      ['uk → Linux', r.out],
    ]) {
      const g = (mbs * 8) / 1000;
      rows.push([`guest ↔ Linux through TAP, ${dir} (${mbs.toFixed(1)} MB/s, ${TAP_BYTES >> 20} MiB, one run)`, g, g / nodeGbps, g / 0.5]);
    }
  }
}
printTable(`Bulk throughput, ${MiB} MiB per run, best of ${ROUNDS} (Gbit/s)`, ['path', 'Gbit/s', '× Node', '× 0.5 Gbit/s'], rows);

const nodeRps = wanted('Node') ? await bestAsync(() => nodeRpc(RPC_MS)) : Number.NaN;
const rpcRows = [];
const rpcRow = (name, make) => {
  if (!wanted(name)) return;
  const r = best(() => rpc(make(), RPC_MS));
  rpcRows.push([name, r, r / nodeRps]);
};
rpcRow('uk TCP ↔ uk TCP, 64-byte request/response', () => tcpOnlyPair(1500, true));
rpcRow('uk stack ↔ uk stack, 64-byte request/response', () => stackPair(1500));
rpcRows.push(['Node net ↔ Node net, loopback (baseline)', nodeRps, 1]);
printTable(`Request/response round trips per second, ${RPC_MS} ms per run, best of ${ROUNDS}`, ['path', 'round trips/s', '× Node'], rpcRows);
