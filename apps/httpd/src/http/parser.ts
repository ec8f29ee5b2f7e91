import type { HttpLimits } from './limits.js';

/** A request head (RFC 9112 §3, §5), read and checked; names lower case. */
export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (origin-form, absolute-form or '*'). */
  readonly target: string;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1 (and later 1.x). */
  readonly version: 10 | 11;
  /** Field names (lower case) and values, alternating. */
  readonly fields: readonly string[];
  /** Bytes of body that follow the head (Content-Length; 0 without one). */
  readonly contentLength: number;
  /** Whether the client wants the connection kept open after the response. */
  readonly keepAlive: boolean;
}

/** The value of field `name` (lower case); several fields of one name joined by ", ". */
export function field(head: RequestHead, name: string): string | undefined {
  let out: string | undefined;
  const f = head.fields;
  for (let i = 0; i < f.length; i += 2) {
    if (f[i] === name) out = out === undefined ? f[i + 1] : `${out}, ${f[i + 1]}`;
  }
  return out;
}

export type HeadResult =
  | { readonly kind: 'partial' }
  | { readonly kind: 'request'; readonly head: RequestHead; readonly end: number }
  | { readonly kind: 'error'; readonly status: number; readonly reason: string };

const PARTIAL: HeadResult = { kind: 'partial' };

/** tchar of RFC 9110 §5.6.2, as a table. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Where the head that starts at `start` ends (the index after its blank line), or -1 when the
 * bytes up to `end` hold no blank line yet. A line may end in CRLF or a bare LF.
 */
export function findHeadEnd(b: Uint8Array, start: number, end: number, from = start): number {
  for (let i = Math.max(start, from); i < end; i++) {
    if (b[i] !== 10) continue;
    // LF LF, or LF CR LF.
    if (i + 1 < end && b[i + 1] === 10) return i + 2;
    if (i + 2 < end && b[i + 1] === 13 && b[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * Reads one request head from b[start, end). Empty lines before a request line are skipped
 * (RFC 9112 §2.2). `scanned` says how far an earlier call already looked for the end, so a
 * head that arrives a byte at a time is scanned once. Limits give 414 (request line), 431
 * (head size, field count) and 413 (a body too large to read past).
 */
export function parseHead(b: Uint8Array, start: number, end: number, limits: HttpLimits, scanned = start): HeadResult {
  // Leading CRLFs (after a previous request's body, say).
  while (start < end && (b[start] === 13 || b[start] === 10)) start++;
  if (start === end) return PARTIAL;
  const headEnd = findHeadEnd(b, start, end, Math.max(start, scanned - 2));
  if (headEnd < 0) {
    const lineEnd = indexOfLf(b, start, end);
    if (lineEnd < 0 && end - start > limits.maxRequestLine) return { kind: 'error', status: 414, reason: 'request line too long' };
    if (end - start > limits.maxHeaderBytes) return { kind: 'error', status: 431, reason: 'request head too large' };
    return PARTIAL;
  }
  if (headEnd - start > limits.maxHeaderBytes) {
    const lineEnd = indexOfLf(b, start, headEnd);
    if (lineEnd - start > limits.maxRequestLine) return { kind: 'error', status: 414, reason: 'request line too long' };
    return { kind: 'error', status: 431, reason: 'request head too large' };
  }
  // Latin-1: every byte one char (obs-text survives, and nothing can fail to decode).
  let text = '';
  for (let i = start; i < headEnd; i += 4096) text += String.fromCharCode.apply(null, b.subarray(i, Math.min(headEnd, i + 4096)) as unknown as number[]);
  const lines = text.split('\n');
  // The split leaves the blank line's '' and the one after it.
  lines.length -= 2;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
    if (lines[i].indexOf('\r') >= 0) return bad('a bare CR in the head');
  }
  const first = lines[0];
  if (first.length > limits.maxRequestLine) return { kind: 'error', status: 414, reason: 'request line too long' };
  const sp1 = first.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || first.indexOf(' ', sp2 + 1) >= 0) return bad('the request line is not METHOD TARGET VERSION');
  const method = first.slice(0, sp1);
  const target = first.slice(sp1 + 1, sp2);
  const version = first.slice(sp2 + 1);
  if (!isToken(method)) return bad('the method is not a token');
  if (target.length === 0) return bad('empty request target');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return bad('a request target holds a control, space or non-ASCII byte');
  }
  const m = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (m === null) return bad('the version is not HTTP/x.y');
  if (m[1] !== '1') return { kind: 'error', status: 505, reason: `HTTP/${m[1]}.${m[2]} is not spoken here` };
  const v: 10 | 11 = m[2] === '0' ? 10 : 11;
  if (lines.length - 1 > limits.maxHeaders) return { kind: 'error', status: 431, reason: 'too many header fields' };
  const fields: string[] = [];
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding = false;
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    const c0 = l.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return bad('obsolete line folding');
    const colon = l.indexOf(':');
    if (colon <= 0) return bad('a header line without a name and colon');
    const name = l.slice(0, colon).toLowerCase();
    if (!isToken(name)) return bad('a field name is not a token (or has space before the colon)');
    const value = l.slice(colon + 1).trim();
    for (let k = 0; k < value.length; k++) {
      const c = value.charCodeAt(k);
      if ((c < 32 && c !== 9) || c === 127) return bad('a control character in a field value');
    }
    fields.push(name, value);
    switch (name) {
      case 'host':
        hosts++;
        break;
      case 'content-length': {
        // RFC 9110 §8.6: a list of equal values counts as one.
        for (const part of value.split(',')) {
          const p = part.trim();
          if (!/^\d{1,15}$/.test(p)) return bad('Content-Length is not a number');
          const n = Number(p);
          if (contentLength >= 0 && n !== contentLength) return bad('conflicting Content-Length fields');
          contentLength = n;
        }
        break;
      }
      case 'transfer-encoding':
        transferEncoding = true;
        break;
      case 'connection':
        connection = connection === '' ? value.toLowerCase() : `${connection},${value.toLowerCase()}`;
        break;
    }
  }
  if (v === 11 && hosts !== 1) return bad(hosts === 0 ? 'HTTP/1.1 needs a Host field' : 'more than one Host field');
  if (hosts > 1) return bad('more than one Host field');
  if (transferEncoding) {
    // RFC 9112 §6.1: with both, the message is suspect; a coding we do not read cannot be framed.
    if (contentLength >= 0) return bad('both Transfer-Encoding and Content-Length');
    return { kind: 'error', status: 501, reason: 'request bodies with Transfer-Encoding are not read' };
  }
  if (contentLength > limits.maxDiscardBody) return { kind: 'error', status: 413, reason: 'request body too large' };
  const tokens = connection === '' ? [] : connection.split(',').map((t) => t.trim());
  const keepAlive = v === 11 ? !tokens.includes('close') : tokens.includes('keep-alive') && !tokens.includes('close');
  return { kind: 'request', head: { method, target, version: v, fields, contentLength: Math.max(0, contentLength), keepAlive }, end: headEnd };
}

function bad(reason: string): HeadResult {
  return { kind: 'error', status: 400, reason };
}

function indexOfLf(b: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (b[i] === 10) return i;
  return -1;
}
