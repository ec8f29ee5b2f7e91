import { describe, expect, it } from 'vitest';
import { httpDate } from '../src/http/conditional.js';
import { StaticHandler } from '../src/http/handler.js';
import { contentType } from '../src/http/mime.js';
import { parseHead, type RequestHead } from '../src/http/parser.js';
import { DEFAULT_LIMITS } from '../src/http/limits.js';
import { parseRange } from '../src/http/range.js';
import { MapSite, parseResponse } from './site.js';

function req(line: string, ...fields: string[]): RequestHead {
  const b = Buffer.from(`${line} HTTP/1.1\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`, 'latin1');
  const r = parseHead(b, 0, b.length, DEFAULT_LIMITS);
  if (r.kind !== 'request') throw new Error(`bad test request: ${JSON.stringify(r)}`);
  return r.head;
}

const big = Buffer.alloc(300_000, 7);
const site = () =>
  new MapSite({
    '/index.html': '<h1>home</h1>',
    '/css/site.css': 'body{}',
    '/docs/a b.txt': 'spaced',
    '/docs/<x>.txt': 'angle',
    '/blob.bin': big,
    '/data.json': '{"a":1}',
  });

async function get(h: StaticHandler, line: string, ...fields: string[]) {
  const r = await h.handle(req(line, ...fields));
  return { ...parseResponse(r.bytes), reply: r };
}

describe('the static handler', () => {
  it('serves files with length, type, validators and ranges advertised', async () => {
    const h = new StaticHandler(site());
    const r = await get(h, 'GET /css/site.css');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('body{}');
    expect(r.fields['content-length']).toBe('6');
    expect(r.fields['content-type']).toBe('text/css; charset=utf-8');
    expect(r.fields.etag).toMatch(/^"[0-9a-f]+-6"$/);
    expect(r.fields['last-modified']).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    expect(r.fields['accept-ranges']).toBe('bytes');
  });

  it('answers HEAD with the GET head and no body', async () => {
    const h = new StaticHandler(site());
    const g = await get(h, 'GET /index.html');
    const hd = await get(h, 'HEAD /index.html');
    expect(hd.status).toBe(200);
    expect(hd.body.length).toBe(0);
    expect(hd.fields).toEqual(g.fields);
  });

  it('gives / its index.html, redirects a directory without its slash, lists one without an index', async () => {
    const h = new StaticHandler(site());
    expect((await get(h, 'GET /')).body.toString()).toBe('<h1>home</h1>');
    const redirect = await get(h, 'GET /docs?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.fields.location).toBe('/docs/?x=1');
    const list = await get(h, 'GET /docs/');
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain('<a href="/docs/a%20b.txt">a b.txt</a>');
    expect(list.body.toString()).toContain('&lt;x&gt;.txt');
    expect(list.body.toString()).not.toContain('<x>');
    expect((await get(new StaticHandler(site(), { autoindex: false }), 'GET /docs/')).status).toBe(403);
  });

  it('says 404, 405 (with Allow) and 400 where it should', async () => {
    const h = new StaticHandler(site());
    expect((await get(h, 'GET /missing')).status).toBe(404);
    expect((await get(h, 'GET /index.html/more')).status).toBe(404);
    const post = await get(h, 'POST /index.html');
    expect(post.status).toBe(405);
    expect(post.fields.allow).toBe('GET, HEAD, OPTIONS');
    expect((await get(h, 'OPTIONS *')).status).toBe(204);
    expect((await get(h, 'OPTIONS /')).fields.allow).toBe('GET, HEAD, OPTIONS');
    expect((await get(h, 'GET *')).status).toBe(400);
    expect((await get(h, 'GET /../secret')).status).toBe(400);
  });

  it('answers If-None-Match and If-Modified-Since with 304', async () => {
    const h = new StaticHandler(site());
    const first = await get(h, 'GET /data.json');
    const etag = first.fields.etag;
    expect((await get(h, 'GET /data.json', `If-None-Match: "zzz", ${etag}`)).status).toBe(304);
    expect((await get(h, 'GET /data.json', `If-None-Match: W/${etag}`)).status).toBe(304);
    expect((await get(h, 'GET /data.json', 'If-None-Match: *')).status).toBe(304);
    expect((await get(h, 'GET /data.json', 'If-None-Match: "other"')).status).toBe(200);
    expect((await get(h, 'GET /data.json', `If-Modified-Since: ${first.fields['last-modified']}`)).status).toBe(304);
    expect((await get(h, 'GET /data.json', `If-Modified-Since: ${httpDate(Date.UTC(2000, 0, 1))}`)).status).toBe(200);
    // If-None-Match wins over If-Modified-Since.
    expect((await get(h, 'GET /data.json', 'If-None-Match: "other"', `If-Modified-Since: ${first.fields['last-modified']}`)).status).toBe(200);
    const nm = await get(h, 'GET /data.json', `If-None-Match: ${etag}`);
    expect(nm.body.length).toBe(0);
    expect(nm.fields.etag).toBe(etag);
  });

  it('serves byte ranges, refuses the unsatisfiable, and honours If-Range', async () => {
    const h = new StaticHandler(site());
    const r = await get(h, 'GET /index.html', 'Range: bytes=1-3');
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('h1>');
    expect(r.fields['content-range']).toBe('bytes 1-3/13');
    expect((await get(h, 'GET /index.html', 'Range: bytes=-4')).body.toString()).toBe('/h1>');
    expect((await get(h, 'GET /index.html', 'Range: bytes=10-')).body.toString()).toBe('h1>');
    const bad = await get(h, 'GET /index.html', 'Range: bytes=99-');
    expect(bad.status).toBe(416);
    expect(bad.fields['content-range']).toBe('bytes */13');
    expect((await get(h, 'GET /index.html', 'Range: bytes=0-1,3-4')).status).toBe(200);
    expect((await get(h, 'GET /index.html', 'Range: bytes=1-2', 'If-Range: "stale"')).status).toBe(200);
    const etag = (await get(h, 'GET /index.html')).fields.etag;
    expect((await get(h, 'GET /index.html', 'Range: bytes=1-2', `If-Range: ${etag}`)).status).toBe(206);
  });

  it('streams large files in pieces rather than holding them', async () => {
    const h = new StaticHandler(site());
    const r = await get(h, 'GET /blob.bin');
    expect(r.status).toBe(200);
    expect(r.fields['content-length']).toBe(String(big.length));
    expect(r.body.length).toBe(0);
    expect(r.reply.stream).toEqual({ path: '/blob.bin', start: 0, length: big.length });
    const part = await get(h, 'GET /blob.bin', 'Range: bytes=1000-299999');
    expect(part.reply.stream).toEqual({ path: '/blob.bin', start: 1000, length: 299_000 });
    expect(h.cachedBytes).toBe(0);
  });

  it('reads a small file once and answers from memory after', async () => {
    const s = site();
    const h = new StaticHandler(s);
    for (let i = 0; i < 5; i++) expect((await get(h, 'GET /index.html')).body.toString()).toBe('<h1>home</h1>');
    expect(s.reads).toBe(1);
  });

  it('names types by extension and ranges by the RFC', () => {
    expect(contentType('/a/b.HTML')).toBe('text/html; charset=utf-8');
    expect(contentType('/a.tar.gz')).toBe('application/gzip');
    expect(contentType('/.hidden')).toBe('application/octet-stream');
    expect(contentType('/noext')).toBe('application/octet-stream');
    expect(parseRange('bytes=0-0', 10)).toEqual({ kind: 'partial', start: 0, end: 0 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ kind: 'partial', start: 5, end: 9 });
    expect(parseRange('bytes=-100', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=3-2', 10)).toEqual({ kind: 'full' });
    expect(parseRange('items=0-1', 10)).toEqual({ kind: 'full' });
  });
});
