// bench/net-l2: layer-2 frames from a guest through its virtio-net NIC to a backend and back.
//   The guest (packages/virtio-net/test/fixtures/netapp, `echo N SIZE WINDOW`) sends N frames
//   with at most WINDOW unanswered; the backend — an in-process switch with a reflector on it,
//   or a UDP socket echoing each datagram — sends each back with the addresses swapped. The
//   guest times itself (rdtime) and counts its doorbells (notifications) and interrupts.
//   The driver polls on for 50 µs after its queue runs empty before it takes interrupts again
//   (busy poll); the rows "no busy poll" show plain NAPI, whose interrupt rate falls with load.
//   Baselines, measured in the same run: the same frames echoed between two Node UDP sockets
//   on the loopback, and handed over through plain JS arrays (a copy each way, as the device
//   makes).
//   UK_BENCH_FRAMES (default 20000 for 64-byte frames; a quarter for 1514; a tenth in lock-step), UK_BENCH_WINDOWS (default 1,16,256)
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, findApp } from '../../packages/cli/dist/index.js';
import { Machine, NetSwitch, readImage, virtioNetDevice } from '../../packages/vmm/dist/index.js';
import { printTable } from '../table.mjs';

const FRAMES = Number(process.env.UK_BENCH_FRAMES ?? 20000);
const WINDOWS = (process.env.UK_BENCH_WINDOWS ?? '1,16,256').split(',').map(Number);
const SIZES = [64, 1514];
// Full-size frames and lock-step (window 1) runs take fewer frames: they are slower per frame.
const framesFor = (size, window = 256) => Math.max(500, Math.floor(FRAMES / (size > 1000 ? 4 : 1) / (window === 1 ? 10 : 1)));

const fixture = fileURLToPath(new URL('../../packages/virtio-net/test/fixtures/netapp', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'uk-bench-net-'));
const { imagePath } = await buildApp(findApp(fixture), dir);
const image = readImage(imagePath);

const REFLECTOR = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
function swap(f) {
  const r = Buffer.allocUnsafe(f.length);
  r.set(f);
  r.set(f.subarray(0, 6), 6);
  r.set(f.subarray(6, 12), 0);
  return r;
}
function testFrame(seq, size) {
  const f = new Uint8Array(size);
  f.set(REFLECTOR, 0);
  f.set([0x52, 0x54, 0, 0x12, 0x34, 0x56], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  new DataView(f.buffer).setUint32(14, seq);
  return f;
}

let switches = 0;
async function guest(mode, backend, size, window, busyPollNs) {
  const n = framesFor(size, window);
  let text = '';
  let cleanup = async () => {};
  let spec;
  if (backend === 'switch') {
    const name = `bench-${switches++}`;
    const reflector = NetSwitch.named(name).attach({ label: 'reflector' });
    reflector.setReceiver((f) => reflector.send(swap(f)));
    spec = `switch=${name}`;
    cleanup = async () => reflector.close();
  } else {
    const sock = dgram.createSocket('udp4');
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    sock.on('message', (m, rinfo) => sock.send(swap(m), rinfo.port, rinfo.address));
    sock.setRecvBufferSize(1 << 21);
    sock.setSendBufferSize(1 << 21);
    spec = `udp=127.0.0.1:${sock.address().port}`;
    cleanup = async () => new Promise((r) => sock.close(r));
  }
  process.stderr.write(`guest ${mode} ${backend} ${size} B window ${window}${busyPollNs === 0 ? ' (no busy poll)' : ''}: ${n} frames\n`);
  const r = await new Machine({ image, mode, memBytes: 64 << 20, bootargs: `${busyPollNs === undefined ? '' : `NET_BUSY_POLL_NS=${busyPollNs} -- `}netapp echo ${n} ${size} ${window}`, devices: [virtioNetDevice(spec)], output: (b) => (text += Buffer.from(b).toString()), timeoutMs: 120_000 }).run();
  await cleanup();
  // LOSSY: UDP dropped datagrams (a socket buffer overflowed); the rate counts what came back.
  const m = /echo (?:ok|LOSSY) n=(\d+) back=(\d+) bad=0 lost=(\d+) size=\d+ window=\d+ ns=(\d+) stalled=(\d+) notif=(\d+) irq=(\d+)/.exec(text);
  if (m === null) throw new Error(`the bench kernel failed (${mode}, ${backend}, ${size} B, window ${window}): ${r.message}\n${text}`);
  const back = Number(m[2]);
  // Time spent waiting out a stalled window is not the path's: count only the frames' time.
  const secs = (Number(m[4]) - Number(m[5])) / 1e9;
  return { fps: back / secs, notif: (Number(m[6]) / back) * 1000, irq: (Number(m[7]) / back) * 1000, lost: Number(m[3]) / n };
}

/**
 * Node's own UDP loopback: the same frames echoed between two sockets, `window` in flight.
 * The loopback drops datagrams when a socket's buffer fills; a stalled window counts as lost
 * and the run goes on, so the rate is of datagrams that came back.
 */
async function nodeUdp(size, window) {
  const n = framesFor(size, window);
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  await Promise.all([new Promise((r) => a.bind(0, '127.0.0.1', r)), new Promise((r) => b.bind(0, '127.0.0.1', r))]);
  b.on('message', (m, rinfo) => b.send(swap(m), rinfo.port, rinfo.address));
  for (const s of [a, b]) {
    s.setRecvBufferSize(1 << 21);
    s.setSendBufferSize(1 << 21);
  }
  const bPort = b.address().port;
  const t0 = process.hrtime.bigint();
  let back = 0;
  let lost = 0;
  let stalled = 0n;
  await new Promise((resolve) => {
    let sent = 0;
    let seen = -1;
    let progress = process.hrtime.bigint();
    let watchdog;
    const pump = () => {
      while (sent < n && sent - back - lost < window) a.send(testFrame(sent++, size), bPort, '127.0.0.1');
      if (back + lost >= n) {
        clearInterval(watchdog);
        resolve();
      }
    };
    watchdog = setInterval(() => {
      const now = process.hrtime.bigint();
      if (back === seen && sent > back + lost) {
        lost = sent - back;
        stalled += now - progress;
      }
      if (back !== seen) progress = now;
      seen = back;
      pump();
    }, 100);
    a.on('message', () => {
      back++;
      progress = process.hrtime.bigint();
      pump();
    });
    pump();
  });
  const secs = Number(process.hrtime.bigint() - t0 - stalled) / 1e9;
  a.close();
  b.close();
  return { fps: back / secs, lost: lost / n };
}

/** Plain JS arrays: each frame copied into an array, "reflected" with a copy, taken back. */
function jsArrays(size) {
  const n = framesFor(size) * 10;
  const frames = Array.from({ length: 256 }, (_, i) => testFrame(i, size));
  const t0 = process.hrtime.bigint();
  let sum = 0;
  for (let done = 0; done < n; ) {
    const out = [];
    for (let k = 0; k < 256 && done + k < n; k++) out.push(frames[k].slice());
    const back = out.map(swap);
    for (const f of back) sum += f[5];
    done += back.length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { fps: n / secs, sum };
}

const gbps = (fps, size) => (fps * size * 8) / 1e9;
const pct = (x) => (x > 0 ? `${(x * 100).toFixed(1)}%` : '0');
const rows = [];
for (const size of SIZES) {
  // Warm the host side once.
  await nodeUdp(size, 16);
  const arrays = jsArrays(size);
  rows.push([`JS array hand-off (baseline)`, `${size}`, '-', arrays.fps, gbps(arrays.fps, size), '1.00x', '-', '-', '-']);
  for (const window of WINDOWS) {
    const base = await nodeUdp(size, window);
    rows.push([`Node UDP loopback echo (baseline)`, `${size}`, `${window}`, base.fps, gbps(base.fps, size), `${(base.fps / arrays.fps).toFixed(3)}x`, '-', '-', pct(base.lost)]);
    for (const mode of ['inline', 'isolated']) {
      for (const [backend, busy] of [['switch', undefined], ['udp', undefined], ['switch', 0]]) {
        const g = await guest(mode, backend, size, window, busy);
        const what = `${backend === 'switch' ? 'switch + reflector' : 'UDP + Node echo'}${busy === 0 ? ', no busy poll' : ''}`;
        rows.push([`guest ${mode}, ${what}`, `${size}`, `${window}`, g.fps, gbps(g.fps, size), `${(g.fps / base.fps).toFixed(2)}x UDP`, g.notif, g.irq, pct(g.lost)]);
      }
    }
  }
}
printTable(
  'net-l2: frames echoed guest → backend → guest (each frame crosses the NIC twice); Gbit/s counts the frame bytes once; notif and irq are the guest\'s doorbells and interrupts per 1000 frames; lost: UDP datagrams the host dropped (a stalled window is written off after a timeout, which the rate leaves out)',
  ['path', 'bytes', 'window', 'frames/s', 'Gbit/s', 'ratio', 'notif/1k', 'irq/1k', 'lost'],
  rows,
);
await rm(dir, { recursive: true, force: true });
