import type { Reply } from './handler.js';
import type { HttpLimits } from './limits.js';
import { parseHead, type RequestHead } from './parser.js';
import { simpleResponse } from './response.js';

/** A connection as the HTTP loop uses it (a TCP socket in the kernel, a fake in tests). */
export interface HttpStream {
  /** The next bytes, or null at the end of input; rejects (ETIMEDOUT...) after `timeoutMs`. */
  read(timeoutMs: number): Promise<Uint8Array | null>;
  /** Sends all of `data`; rejects when the peer has not taken it after `timeoutMs`. */
  write(data: Uint8Array, timeoutMs: number): Promise<void>;
  /** Ends the connection after what was written (FIN). */
  close(): void;
  /** Resets it. */
  abort(): void;
}

export interface ConnectionEnv {
  readonly limits: HttpLimits;
  /** Milliseconds of some monotonic clock. */
  now(): number;
  handle(req: RequestHead): Promise<Reply>;
  /** Reads a piece of a large file for `stream` replies. */
  readFile(path: string, position: number, length: number): Promise<Uint8Array>;
  /** Told about each request answered (status, for counters and logs). */
  served?(req: RequestHead, reply: Reply): void;
  /** Told about a request refused before the handler (status) or a connection dropped (0). */
  refused?(status: number, reason: string): void;
}

/** Pieces of a streamed file (a write at a time). */
const STREAM_CHUNK = 64 * 1024;

/**
 * Serves one connection: reads request heads within the limits, answers each in order
 * (pipelined requests included), keeps the connection while both sides want it, and closes it
 * on a malformed request (after its status), a timeout, or end of input. Never throws.
 */
export async function serveConnection(s: HttpStream, env: ConnectionEnv): Promise<void> {
  const L = env.limits;
  let buf = new Uint8Array(2048);
  let start = 0;
  let end = 0;
  let requests = 0;
  try {
    for (;;) {
      // ── a request head ──
      let scanned = start;
      let deadline = Number.POSITIVE_INFINITY;
      let result = parseHead(buf, start, end, L, scanned);
      while (result.kind === 'partial') {
        const now = env.now();
        // The first request gets the header timeout from the connection's start; later ones
        // the idle timeout until their first byte, then the header timeout.
        if (deadline === Number.POSITIVE_INFINITY && (end > start || requests === 0)) deadline = now + L.headerTimeoutMs;
        const wait = deadline === Number.POSITIVE_INFINITY ? L.idleTimeoutMs : deadline - now;
        let data: Uint8Array | null;
        try {
          data = wait > 0 ? await s.read(wait) : null;
          if (wait <= 0) throw new Error('timeout');
        } catch {
          if (end > start) {
            env.refused?.(408, 'request head not complete in time');
            await s.write(simpleResponse({ status: 408, keepAlive: false }), 1000).catch(() => {});
            s.close();
          } else s.close();
          return;
        }
        if (data === null) {
          s.close();
          return;
        }
        scanned = end;
        if (end + data.length > buf.length) {
          // Compact, then grow (at most to the head limit plus one read).
          if (start > 0) {
            buf.copyWithin(0, start, end);
            scanned -= start;
            end -= start;
            start = 0;
          }
          if (end + data.length > buf.length) {
            const next = new Uint8Array(Math.max(buf.length * 2, end + data.length));
            next.set(buf.subarray(0, end));
            buf = next;
          }
        }
        buf.set(data, end);
        end += data.length;
        result = parseHead(buf, start, end, L, scanned);
      }
      if (result.kind === 'error') {
        env.refused?.(result.status, result.reason);
        await s.write(simpleResponse({ status: result.status, keepAlive: false, detail: result.reason }), L.sendTimeoutMs).catch(() => {});
        s.close();
        return;
      }
      const req = result.head;
      start = result.end;
      // ── a body to skip (a GET with content) ──
      let skip = req.contentLength;
      const inBuf = Math.min(skip, end - start);
      start += inBuf;
      skip -= inBuf;
      while (skip > 0) {
        const data = await s.read(L.headerTimeoutMs);
        if (data === null) {
          s.close();
          return;
        }
        const take = Math.min(skip, data.length);
        skip -= take;
        if (take < data.length) {
          // The rest is the next request: keep it.
          const rest = data.subarray(take);
          if (rest.length > buf.length) buf = new Uint8Array(rest.length * 2);
          buf.set(rest, 0);
          start = 0;
          end = rest.length;
        }
      }
      if (start === end) {
        start = 0;
        end = 0;
      }
      // ── the response ──
      requests++;
      let reply: Reply;
      try {
        reply = await env.handle(req);
      } catch (e) {
        reply = { status: 500, bytes: simpleResponse({ status: 500, keepAlive: false, head: req.method === 'HEAD' }), keepAlive: false };
        env.refused?.(500, e instanceof Error ? e.message : String(e));
      }
      const last = !reply.keepAlive || requests >= L.maxRequestsPerConnection;
      await s.write(reply.bytes, L.sendTimeoutMs);
      if (reply.stream !== undefined) {
        const { path, start: from, length } = reply.stream;
        for (let done = 0; done < length; ) {
          const n = Math.min(STREAM_CHUNK, length - done);
          const piece = await env.readFile(path, from + done, n);
          if (piece.length !== n) throw new Error(`${path} shrank while being sent`);
          await s.write(piece, L.sendTimeoutMs);
          done += n;
        }
      }
      env.served?.(req, reply);
      if (last) {
        s.close();
        return;
      }
    }
  } catch (e) {
    // A write that timed out, a reset, a file that failed half-way: the connection cannot
    // carry a status any more.
    env.refused?.(0, e instanceof Error ? e.message : String(e));
    s.abort();
  }
}
