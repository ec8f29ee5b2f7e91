// HTTP benchmark, in the shape of the Unikraft paper's tables: for each execution mode, the
// httpd image's bytes, the guest RAM it uses, its boot time, and requests per second under wrk
// (1 and 64 connections) for a 612-byte page served from a FAT disk through the VMM's user
// network and a forwarded port — beside Node's own http.createServer serving the same page on
// the host, measured in the same run.
// Build first (pnpm build), then:  node bench/http/index.mjs
// UK_BENCH_SECONDS: seconds per wrk run (default 5); UK_BENCH_ROUNDS: rounds, the best of
// which counts (default 3); UK_BENCH_MODES: modes to run (default "inline,isolated");
// UK_SOAK_SECONDS: also run a wrk soak with UK_SOAK_CONNECTIONS (1000)
// connections for that long (the 10-minute soak is UK_SOAK_SECONDS=600).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { printTable } from '../table.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const p of ['packages/vmm/dist/index.js', 'packages/cli/dist/index.js', 'packages/net/dist/index.js']) {
  if (!existsSync(join(root, p))) {
    console.error(`${p} is missing: build first with  pnpm build`);
    process.exit(1);
  }
}
const { Machine, readImage, virtioBlkDevice, virtioNetDevice } = await import(join(root, 'packages/vmm/dist/index.js'));
const { buildApp, findApp } = await import(join(root, 'packages/cli/dist/index.js'));

const SECONDS = Number(process.env.UK_BENCH_SECONDS ?? 5);
// Rounds of Node and uk taking turns; each figure is the best of its rounds, so that a burst
// of other work on the machine does not decide a ratio.
const ROUNDS = Number(process.env.UK_BENCH_ROUNDS ?? 3);
const MODES = (process.env.UK_BENCH_MODES ?? 'inline,isolated').split(',').filter(Boolean);
const SOAK = Number(process.env.UK_SOAK_SECONDS ?? 0);
const SOAK_CONNECTIONS = Number(process.env.UK_SOAK_CONNECTIONS ?? 1000);
const tmp = mkdtempSync(join(tmpdir(), 'uk-bench-http-'));

// The page: 612 bytes, nginx's welcome page's size.
const page = Buffer.from(`<!DOCTYPE html>\n<html><head><title>bench</title></head><body>\n${'x'.repeat(612 - 78)}\n</body></html>\n`);
if (page.length !== 612) throw new Error(`page is ${page.length} bytes`);

function makeDisk() {
  const disk = join(tmp, 'site.img');
  const file = join(tmp, 'index.html');
  writeFileSync(file, page);
  execFileSync('mkfs.fat', ['-C', '-n', 'SITE', disk, '4096'], { stdio: 'ignore' });
  execFileSync('mcopy', ['-i', disk, file, '::/index.html']);
  return disk;
}

/** wrk for `seconds` with `connections`; requests per second and socket errors. */
function wrk(port, connections, seconds, path = '/index.html') {
  return new Promise((resolve, reject) => {
    const args = ['-t', String(connections >= 8 ? 2 : 1), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', `http://127.0.0.1:${port}${path}`];
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(killer);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
      const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = m === null ? 0 : m.slice(1).reduce((a, b) => a + Number(b), 0);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ rps, errors, non2xx, out });
    });
  });
}

/** Node's http.createServer serving the page, in a process of its own like the guest's VMM. */
async function nodeServer() {
  const code = `const http=require('http');const page=Buffer.from(process.argv[1],'base64');http.createServer((q,r)=>{r.writeHead(200,{'Content-Type':'text/html','Content-Length':page.length});r.end(page)}).listen(0,'127.0.0.1',function(){process.stdout.write(String(this.address().port)+'\\n')});setTimeout(()=>process.exit(0),${(SECONDS * 4 * ROUNDS * (MODES.length + 1) + SOAK + 300) * 1000});`;
  const child = spawn(process.execPath, ['-e', code, page.toString('base64')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  await wrk(port, 8, 2, '/');
  return { port, stop: () => child.kill() };
}

async function guest(mode, image, disk) {
  let text = '';
  const input = new PassThrough();
  const nic = virtioNetDevice({ link: { kind: 'user', options: { hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 80 }], log: () => {} } } }, { log: () => {} });
  const waiters = [];
  const t0 = performance.now();
  const machine = new Machine({
    image: readImage(image),
    mode,
    memBytes: 64 * 1024 * 1024,
    bootargs: '-- httpd',
    devices: [virtioBlkDevice(`${disk},ro`), nic],
    input,
    timeoutMs: (SECONDS * 2 * ROUNDS + SOAK + 180) * 1000,
    output: (b) => {
      text += Buffer.from(b).toString();
      for (const w of waiters.splice(0)) w();
    },
  });
  const done = machine.run();
  const waitFor = (re, ms = 30_000) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} in:\n${text}`)), ms);
      const check = () => {
        const m = re.exec(text);
        if (m) {
          clearTimeout(t);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    });
  const serving = await waitFor(/httpd: serving .*RAM in use (\d+) KiB/);
  const bootMs = performance.now() - t0;
  const port = nic.port.forwards[0].boundPort;
  return { text: () => text, waitFor, bootMs, ramKiB: Number(serving[1]), port, stop: () => (input.write('q'), done) };
}

const { imagePath, manifest } = await buildApp(findApp(join(root, 'apps/httpd')), tmp);
const disk = makeDisk();
console.log(`httpd image: ${manifest.bytes} bytes; page: ${page.length} bytes; wrk ${SECONDS} s per run, ${ROUNDS} rounds\n`);

const node = await nodeServer();
const base = { c1: 0, c64: 0, errors: 0 };
const rows = [];
const soakRows = [];
try {
  for (const mode of MODES) {
    const g = await guest(mode, imagePath, disk);
    try {
      await wrk(g.port, 8, 2); // warm-up: caches, JIT
      const best = { c1: 0, c64: 0, errors: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of [1, 64]) {
          const n = await wrk(node.port, c, SECONDS, '/');
          const u = await wrk(g.port, c, SECONDS);
          const k = c === 1 ? 'c1' : 'c64';
          base[k] = Math.max(base[k], n.rps);
          best[k] = Math.max(best[k], u.rps);
          base.errors += n.errors + n.non2xx;
          best.errors += u.errors + u.non2xx;
        }
      }
      const idle = await g.waitFor(/idle: (\d+) requests[^\n]*RAM in use (\d+) KiB\n(?![\s\S]*idle:)/, 10_000).catch(() => null);
      rows.push([`uk httpd (${mode})`, manifest.bytes, `${g.ramKiB} KiB`, g.bootMs, best.c1, best.c64, best, idle ? `${idle[2]} KiB` : '?']);
      if (SOAK > 0) {
        const before = g.ramKiB;
        const s = await wrk(g.port, SOAK_CONNECTIONS, SOAK);
        const after = await g.waitFor(/idle: (\d+) requests[^\n]*RAM in use (\d+) KiB\n(?![\s\S]*idle:)/, 45_000).catch(() => null);
        soakRows.push([`${mode}, ${SOAK_CONNECTIONS} connections, ${SOAK} s`, s.rps, s.errors, s.non2xx, `${before} KiB`, after ? `${after[2]} KiB` : '?']);
      }
    } finally {
      const r = await g.stop();
      if (r.exitCode !== 0) console.log(`${mode}: the guest ended with ${r.message}`);
    }
  }
} finally {
  node.stop();
}
const table = rows.map(([name, bytes, ram, boot, c1, c64, best, after]) => [name, bytes, ram, after, boot, c1, c64, c1 / base.c1, c64 / base.c64, best.errors]);
table.push(['Node http.createServer (host)', '-', '-', '-', '-', base.c1, base.c64, 1, 1, base.errors]);

printTable(
  `Static page (612 bytes) over HTTP/1.1 keep-alive, wrk on 127.0.0.1 (best of ${ROUNDS} rounds of ${SECONDS} s, Node and uk taking turns)`,
  ['server', 'image bytes', 'guest RAM at boot', 'after load', 'boot ms', 'req/s c=1', 'req/s c=64', 'x Node c=1', 'x Node c=64', 'errors'],
  table,
);
if (soakRows.length > 0) printTable('Soak', ['run', 'req/s', 'socket errors', 'non-2xx', 'RAM before', 'RAM after'], soakRows);
