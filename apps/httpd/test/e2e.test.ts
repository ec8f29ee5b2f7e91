import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../../packages/vmm/src/index.js';
import { boot, type Guest } from './boot.js';

const tmp = mkdtempSync(join(tmpdir(), 'uk-httpd-e2e-'));

/** The site: files of several kinds and sizes, a nested directory, a long name with spaces. */
const FILES: Record<string, Buffer> = {
  'index.html': Buffer.from('<!DOCTYPE html><title>site</title><h1>It works</h1>\n'),
  'style.css': Buffer.from('body { color: #333; }\n'),
  'app.js': Buffer.from('console.log("hi");\n'),
  'data/report.json': Buffer.from(JSON.stringify({ rows: Array.from({ length: 200 }, (_, i) => ({ i, sq: i * i })) })),
  'data/nested/deep.txt': Buffer.from('deep\n'.repeat(1000)),
  'images/photo.bin': randomBytes(700_000),
  'Long File Name With Spaces.txt': Buffer.from('spaces survive\n'),
  'small.bin': randomBytes(4097),
};

function makeDisk(): string {
  const src = join(tmp, 'src');
  for (const [name, data] of Object.entries(FILES)) {
    const p = join(src, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, data);
  }
  const disk = join(tmp, 'site.img');
  execFileSync('mkfs.fat', ['-C', '-n', 'SITE', disk, '8192'], { stdio: 'ignore' });
  for (const dir of ['data', 'data/nested', 'images']) execFileSync('mmd', ['-i', disk, `::/${dir}`]);
  for (const name of Object.keys(FILES)) execFileSync('mcopy', ['-i', disk, join(src, name), `::/${name}`]);
  return disk;
}

const url = (g: Guest, path: string) => `http://127.0.0.1:${g.httpPort}${path.split('/').map(encodeURIComponent).join('/')}`;

/** curl, run without blocking: in inline mode the guest runs on this very event loop. */
function curl(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'buffer', maxBuffer: 16 << 20 }, (err, out, errText) => (err ? reject(new Error(`${err.message}: ${errText}`)) : resolve(out))),
  );
}

/** One GET on a fresh connection (no keep-alive pool to race a server's close). */
function getOnce(u: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = http.get(u, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.setTimeout(30_000, () => r.destroy(new Error('timed out')));
  });
}

describe('httpd serving a FAT disk through the user network (inline)', () => {
  let g: Guest;
  beforeAll(async () => {
    g = await boot('httpd', { disk: `${makeDisk()},ro` });
    await g.waitFor(/httpd: serving the disk \(vda\) at \/www on http:\/\/10\.0\.2\.15\//);
  });
  afterAll(async () => {
    const r = await g?.stop();
    expect(r?.exitCode).toBe(0);
  });

  it('gives curl every file byte for byte', async () => {
    for (const [name, data] of Object.entries(FILES)) {
      const got = await curl([url(g, `/${name}`)]);
      expect(Buffer.compare(got, data), name).toBe(0);
    }
  });

  it("gives Node's fetch every file byte for byte, with the right length and type", async () => {
    for (const [name, data] of Object.entries(FILES)) {
      const r = await fetch(url(g, `/${name}`));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-length')).toBe(String(data.length));
      const body = Buffer.from(await r.arrayBuffer());
      expect(Buffer.compare(body, data), name).toBe(0);
    }
    expect((await fetch(url(g, '/style.css'))).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(url(g, '/'))).headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('does HEAD, ranges, conditional GET, directory listings and 404 as curl sees them', async () => {
    const head = (await curl(['-I', url(g, '/images/photo.bin')])).toString();
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toMatch(/Content-Length: 700000/);
    const part = await curl(['-r', '1000-1999', url(g, '/images/photo.bin')]);
    expect(Buffer.compare(part, FILES['images/photo.bin'].subarray(1000, 2000))).toBe(0);
    const etag = /ETag: (".*")/.exec(head)?.[1] as string;
    const cond = (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', `If-None-Match: ${etag}`, url(g, '/images/photo.bin')])).toString();
    expect(cond).toBe('304');
    const listing = await (await fetch(url(g, '/data/'))).text();
    expect(listing).toContain('href="/data/nested/"');
    expect(listing).toContain('href="/data/report.json"');
    expect((await curl(['-o', '/dev/null', '-w', '%{http_code}', url(g, '/nope.html')])).toString()).toBe('404');
    expect((await curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', url(g, '/data')])).toString()).toMatch(/^301 http:\/\/127\.0\.0\.1:\d+\/data\/$/);
    expect((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', url(g, '/index.html')])).toString()).toBe('405');
  });

  it('serves 100 concurrent clients, each on its own connection', async () => {
    const want = FILES['data/report.json'];
    const results = await Promise.all(Array.from({ length: 100 }, () => getOnce(url(g, '/data/report.json'))));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(Buffer.compare(r.body, want)).toBe(0);
    }
  });

  it('keeps serving everyone else while malformed, oversized and slow clients are refused', async () => {
    const raw = (text: string, hold = false) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(g.httpPort, '127.0.0.1', () => s.write(text));
        let got = '';
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('close', () => resolve(got));
        s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(got) : reject(e)));
        if (!hold) s.setTimeout(20_000, () => s.destroy());
      });
    const [bad, huge, many, uri, okAfter] = await Promise.all([
      raw('GET / HTTP/1.1\r\nHost a\r\n\r\n'),
      raw(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`),
      raw(`GET / HTTP/1.1\r\nHost: a\r\n${'X-A: 1\r\n'.repeat(150)}\r\n`),
      raw(`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`),
      fetch(url(g, '/index.html')).then((r) => r.text()),
    ]);
    expect(bad).toMatch(/^HTTP\/1\.1 400 /);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(many).toMatch(/^HTTP\/1\.1 431 /);
    expect(uri).toMatch(/^HTTP\/1\.1 414 /);
    expect(okAfter).toBe(FILES['index.html'].toString());
  });
});

describe('httpd against slow clients (isolated mode, short timeouts)', () => {
  it('answers a slowloris with 408 and closes an idle one, while serving others', async () => {
    const g = await boot('httpd', { mode: 'isolated', args: ['--header-timeout', '1', '--idle-timeout', '1'] });
    try {
      await g.waitFor(/httpd: serving the built-in page/);
      const slow = new Promise<string>((resolve) => {
        const s = net.connect(g.httpPort, '127.0.0.1', () => {
          s.write('GET / HTTP/1.1\r\n');
          // One more byte now and then: never the whole head.
          const drip = setInterval(() => s.write('X'), 200);
          s.on('close', () => clearInterval(drip));
        });
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
      });
      const idle = new Promise<string>((resolve) => {
        const s = net.connect(g.httpPort, '127.0.0.1');
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
      });
      const page = await getOnce(`http://127.0.0.1:${g.httpPort}/`);
      expect(page.body.length).toBe(612);
      expect(await slow).toMatch(/^HTTP\/1\.1 408 /);
      expect(await idle).toBe('');
      expect((await getOnce(`http://127.0.0.1:${g.httpPort}/`)).status).toBe(200);
    } finally {
      expect((await g.stop()).exitCode).toBe(0);
    }
  });
});

describe('the guest reaching out through the user network', () => {
  it('resolves a name through the DNS forwarder and fetches a page from a server on the host loopback', async () => {
    const server = http.createServer((req, res) => res.end(`hello guest, you asked for ${req.url} as ${req.headers.host}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const g = await boot('fetch', { args: ['web.test', String(port), '/greeting'], net: { resolver: staticResolver({ 'web.test': ['127.0.0.1'] }), hostForwards: [] } });
      const r = await g.done;
      expect(g.output()).toContain('address 10.0.2.15');
      expect(g.output()).toContain('resolved web.test 10.0.2.2');
      expect(g.output()).toContain('status 200');
      expect(g.output()).toContain(`body hello guest, you asked for /greeting as web.test:${port}`);
      expect(r.exitCode).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
