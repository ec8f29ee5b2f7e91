import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type HttpLimits } from '../src/http/limits.js';
import { field, type HeadResult, parseHead } from '../src/http/parser.js';
import { targetPath } from '../src/http/target.js';

const enc = (s: string) => Buffer.from(s, 'latin1');
const parse = (s: string, limits: HttpLimits = DEFAULT_LIMITS): HeadResult => {
  const b = enc(s);
  return parseHead(b, 0, b.length, limits);
};
const status = (s: string, limits?: HttpLimits) => {
  const r = parse(s, limits);
  return r.kind === 'error' ? r.status : r.kind;
};

describe('the request head parser', () => {
  it('reads a request line and fields, and where the head ends', () => {
    const text = 'GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nAccept:  text/html \r\nX-Two: 1\r\nx-two: 2\r\n\r\nNEXT';
    const r = parse(text);
    if (r.kind !== 'request') throw new Error(r.kind);
    expect(r.head.method).toBe('GET');
    expect(r.head.target).toBe('/a/b?c=d');
    expect(r.head.version).toBe(11);
    expect(field(r.head, 'accept')).toBe('text/html');
    expect(field(r.head, 'x-two')).toBe('1, 2');
    expect(r.head.keepAlive).toBe(true);
    expect(text.slice(r.end)).toBe('NEXT');
  });

  it('waits for the rest of a head that has not all come, byte by byte', () => {
    const text = 'HEAD / HTTP/1.0\nConnection: keep-alive\n\n';
    for (let i = 0; i < text.length; i++) expect(parse(text.slice(0, i)).kind).toBe('partial');
    const r = parse(text);
    expect(r.kind === 'request' && r.head.keepAlive && r.head.version === 10).toBe(true);
  });

  it('keeps HTTP/1.1 open unless told to close, and HTTP/1.0 closed unless asked', () => {
    const ka = (s: string) => {
      const r = parse(s);
      return r.kind === 'request' ? r.head.keepAlive : undefined;
    };
    expect(ka('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, Upgrade\r\n\r\n')).toBe(true);
    expect(ka('GET / HTTP/1.0\r\n\r\n')).toBe(false);
  });

  it('answers malformed requests with the status the RFC names', () => {
    expect(status('GET / HTTP/1.1\r\n\r\n')).toBe(400); // no Host
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).toBe(400);
    expect(status('GET  / HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(400);
    expect(status('G(T / HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/2.0\r\nHost: a\r\n\r\n')).toBe(505);
    expect(status('GET / HTTQ/1.1\r\nHost: a\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost : a\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n')).toBe(400);
    expect(status('GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n')).toBe(400);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n')).toBe(400);
    expect(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')).toBe(501);
    expect(status('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n')).toBe(413);
  });

  it('bounds the request line (414), the head (431) and the field count (431)', () => {
    const limits = { ...DEFAULT_LIMITS, maxRequestLine: 100, maxHeaderBytes: 400, maxHeaders: 5 };
    expect(status(`GET /${'a'.repeat(200)}`, limits)).toBe(414);
    expect(status(`GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: a\r\n\r\n`, limits)).toBe(414);
    expect(status(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(500)}`, limits)).toBe(431);
    expect(status(`GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(6)}\r\n`, limits)).toBe(431);
    expect(status(`GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(4)}\r\n`, limits)).toBe('request');
  });

  it('never throws, and answers every input with a head, a wait or a 4xx/5xx (fuzzed)', () => {
    const limits = { ...DEFAULT_LIMITS, maxRequestLine: 256, maxHeaderBytes: 1024, maxHeaders: 16 };
    const pieces = fc.constantFrom('GET', 'HEAD', ' ', '/', 'HTTP/1.1', 'HTTP/1.0', '\r\n', '\n', '\r', ':', 'Host', 'Content-Length', 'Transfer-Encoding', '0', '12', ',', '\t', '\0', '%2e', '..', 'é', '\x7f');
    const input = fc.oneof(fc.array(pieces, { maxLength: 60 }).map((a) => a.join('')), fc.string({ maxLength: 400 }), fc.uint8Array({ maxLength: 1200 }).map((u) => Buffer.from(u).toString('latin1')));
    fc.assert(
      fc.property(input, (text) => {
        const r = parse(text, limits);
        if (r.kind === 'error') expect(r.status >= 400 && r.status < 600).toBe(true);
        if (r.kind === 'request') {
          expect(r.end).toBeLessThanOrEqual(Buffer.byteLength(text, 'latin1'));
          expect(r.head.method.length).toBeGreaterThan(0);
        }
        // Whatever it said, the same bytes split anywhere say the same at the end.
        const b = enc(text);
        const whole = parseHead(b, 0, b.length, limits);
        expect(whole.kind).toBe(r.kind);
      }),
      { numRuns: Number(process.env.UK_FUZZ_CASES ?? 3000) },
    );
  });
});

describe('request targets', () => {
  it('decodes, normalises, and refuses what climbs out of the root', () => {
    expect(targetPath('/a/./b/../c%20d?x=1')).toEqual({ ok: true, path: '/a/c d', trailingSlash: false });
    expect(targetPath('/dir/')).toEqual({ ok: true, path: '/dir', trailingSlash: true });
    expect(targetPath('http://host:80/x/y')).toEqual({ ok: true, path: '/x/y', trailingSlash: false });
    expect(targetPath('/../etc/passwd').ok).toBe(false);
    expect(targetPath('/a/%2e%2e/%2e%2e/b').ok).toBe(false);
    expect(targetPath('/a%00b').ok).toBe(false);
    expect(targetPath('/%zz').ok).toBe(false);
    expect(targetPath('*').ok).toBe(false);
  });

  it('never names a path outside the root (fuzzed)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '.', '..', '%2e', '%2E%2e', '%2f', '/', '//', '%00', '%', 'b%20c'), { maxLength: 20 }), (parts) => {
        const r = targetPath(`/${parts.join('/')}`);
        if (!r.ok) return;
        expect(r.path.startsWith('/')).toBe(true);
        expect(r.path.split('/')).not.toContain('..');
        expect(r.path.includes('\0')).toBe(false);
      }),
      { numRuns: Number(process.env.UK_FUZZ_CASES ?? 3000) },
    );
  });
});
