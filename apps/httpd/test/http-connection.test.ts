import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HttpStream, serveConnection } from '../src/http/connection.js';
import { StaticHandler } from '../src/http/handler.js';
import { DEFAULT_LIMITS, type HttpLimits } from '../src/http/limits.js';
import { MapSite } from './site.js';

/** A connection fed by the test: chunks in, everything written collected. */
class FakeStream implements HttpStream {
  written: Buffer[] = [];
  closed = false;
  aborted = false;
  #chunks: Array<Uint8Array | null> = [];
  #wake: (() => void) | undefined;

  feed(...chunks: Array<string | Uint8Array | null>): void {
    for (const c of chunks) this.#chunks.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    this.#wake?.();
  }

  async read(timeoutMs: number): Promise<Uint8Array | null> {
    if (this.#chunks.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          this.#wake = undefined;
          reject(Object.assign(new Error('ETIMEDOUT: read timed out'), { code: 'ETIMEDOUT' }));
        }, timeoutMs);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = undefined;
          resolve();
        };
      });
    }
    return this.#chunks.shift() ?? null;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.closed || this.aborted) throw new Error('EPIPE');
    this.written.push(Buffer.from(data));
  }
  close(): void {
    this.closed = true;
  }
  abort(): void {
    this.aborted = true;
  }
  get text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
  statuses(): number[] {
    return [...this.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  }
}

const site = new MapSite({ '/index.html': 'hello', '/big.bin': Buffer.alloc(200_000, 1) });
const fast: HttpLimits = { ...DEFAULT_LIMITS, headerTimeoutMs: 60, idleTimeoutMs: 60, sendTimeoutMs: 200, maxHeaderBytes: 2048, maxHeaders: 20, maxRequestLine: 512 };

function serve(s: FakeStream, limits: HttpLimits = fast, handler = new StaticHandler(site, { cacheFileBytes: 100_000 })) {
  return serveConnection(s, {
    limits,
    now: () => performance.now(),
    handle: (r) => handler.handle(r),
    readFile: (p, pos, len) => site.read(p, pos, len),
  });
}

describe('an HTTP connection', () => {
  it('answers pipelined requests in order and keeps the connection', async () => {
    const s = new FakeStream();
    s.feed('GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n');
    const done = serve(s);
    s.feed(null);
    await done;
    expect(s.statuses()).toEqual([200, 200, 404]);
    expect(s.text.match(/hello/g)?.length).toBe(1);
    expect(s.closed).toBe(true);
  });

  it('closes after a response when the client asked for it', async () => {
    const s = new FakeStream();
    s.feed('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await serve(s);
    expect(s.statuses()).toEqual([200]);
    expect(s.text).toContain('Connection: close');
    expect(s.closed).toBe(true);
  });

  it('skips a body sent with a GET and reads the request after it', async () => {
    const s = new FakeStream();
    s.feed('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234', '56789GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', null);
    await serve(s);
    expect(s.statuses()).toEqual([200, 200]);
  });

  it('gives a slowloris 408 and closes; an idle keep-alive just closes', async () => {
    const slow = new FakeStream();
    slow.feed('GET / HTTP/1.1\r\n', 'Host: a\r\n');
    await serve(slow);
    expect(slow.statuses()).toEqual([408]);
    expect(slow.closed).toBe(true);
    const idle = new FakeStream();
    idle.feed('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await serve(idle);
    expect(idle.statuses()).toEqual([200]);
    expect(idle.closed).toBe(true);
    const silent = new FakeStream();
    await serve(silent);
    expect(silent.written.length).toBe(0);
    expect(silent.closed).toBe(true);
  });

  it('answers oversized and malformed heads with their status and closes', async () => {
    for (const [text, status] of [
      [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(4000)}\r\n\r\n`, 431],
      [`GET /${'a'.repeat(1000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: a\r\n${'A: b\r\n'.repeat(30)}\r\n`, 431],
      ['BLAH\r\n\r\n', 400],
      ['GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
    ] as const) {
      const s = new FakeStream();
      s.feed(text, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await serve(s);
      expect(s.statuses()).toEqual([status]);
      expect(s.closed).toBe(true);
    }
  });

  it('turns a handler failure into 500 and closes', async () => {
    const s = new FakeStream();
    s.feed('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const broken = { handle: async () => Promise.reject(new Error('disk on fire')) } as unknown as StaticHandler;
    await serve(s, fast, broken);
    expect(s.statuses()).toEqual([500]);
    expect(s.closed).toBe(true);
  });

  it('streams a large file in pieces', async () => {
    const s = new FakeStream();
    s.feed('GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n', null);
    await serve(s);
    const all = Buffer.concat(s.written);
    expect(all.length - all.indexOf('\r\n\r\n') - 4).toBe(200_000);
    expect(s.written.length).toBeGreaterThan(2);
  });

  it('never throws and always ends the connection, whatever comes in (fuzzed)', async () => {
    const chunk = fc.oneof(
      fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'GET /index.html HTTP/1.0\r\n\r\n', 'Content-Length: 3\r\n', '\r\n', 'HEAD /big.bin HTTP/1.1\r\n', 'Range: bytes=1-2\r\n', 'abc'),
      fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 12 }), async (chunks) => {
        const s = new FakeStream();
        s.feed(...chunks, null);
        await serve(s);
        expect(s.closed || s.aborted).toBe(true);
        for (const w of s.written) if (w.length > 0 && w.toString('latin1', 0, 5) === 'HTTP/') expect(w.toString('latin1')).toMatch(/^HTTP\/1\.1 \d{3} /);
      }),
      { numRuns: Number(process.env.UK_FUZZ_CASES ?? 300) },
    );
  });
});
