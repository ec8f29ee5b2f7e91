// The host's ends of the interop transfers, over Linux's own TCP (node:net): the same byte
// pattern and FNV-1a checksum as the tapnet guest, so each side can check the other.
import net from 'node:net';

export const FNV_OFFSET = 0x811c9dc5;
const PATTERN_SIZE = 65_521;

/** The guest's pattern (fixtures/tapnet): xorshift32 bytes, a prime number of them. */
export function pattern() {
  const p = new Uint8Array(PATTERN_SIZE);
  let x = 0x12345678;
  for (let i = 0; i < p.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = x & 0xff;
  }
  return p;
}

export function fnv(h, b) {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export const hex = (h) => h.toString(16).padStart(8, '0');

/** Counts and sums what `s` receives to its end; resolves with it and the ms from the first byte. */
function drain(s) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let sum = FNV_OFFSET;
    let t0 = 0;
    s.on('data', (d) => {
      if (bytes === 0) t0 = performance.now();
      sum = fnv(sum, d);
      bytes += d.length;
    });
    s.on('end', () => resolve({ bytes, sum: hex(sum), ms: performance.now() - t0 }));
    s.on('error', reject);
  });
}

/** Writes n bytes of the pattern and ends; resolves with their checksum and the start time. */
function fill(s, n) {
  return new Promise((resolve, reject) => {
    const p = Buffer.from(pattern());
    let sent = 0;
    let sum = FNV_OFFSET;
    const t0 = performance.now();
    const write = () => {
      while (sent < n) {
        const chunk = p.subarray(0, Math.min(p.length, n - sent));
        sum = fnv(sum, chunk);
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', write);
          return;
        }
      }
      s.end();
      resolve({ bytes: n, sum: hex(sum), t0 });
    };
    s.on('error', reject);
    write();
  });
}

/** A timeout for a promise, so that no step of a test can hang. */
export function within(ms, what, p) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A one-connection server on the host's TAP address: `sink` reads to the end (and ends its
 * side), `source` writes n bytes. `listening` resolves when the guest may connect, `result`
 * with what went through.
 */
export function hostServer(address, port, role, n = 0) {
  const server = net.createServer();
  let result;
  const connected = new Promise((resolve) => server.once('connection', resolve));
  result = connected.then(async (s) => {
    server.close();
    if (role === 'sink') {
      const r = await drain(s);
      s.end();
      return r;
    }
    const rx = drain(s); // the guest's end of input: it has read everything
    const r = await fill(s, n);
    await rx;
    return { bytes: r.bytes, sum: r.sum, ms: performance.now() - r.t0 };
  });
  const listening = new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return { listening, result, close: () => server.close() };
}

/** Connects to the guest and sends n bytes (`send`) or reads to the end (`recv`). */
export function hostClient(address, port, role, n = 0) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port });
    s.once('error', reject);
    s.once('connect', async () => {
      try {
        if (role === 'recv') {
          const r = await drain(s);
          s.end();
          resolve(r);
        } else {
          const rx = drain(s);
          const r = await fill(s, n);
          await rx;
          resolve({ bytes: r.bytes, sum: r.sum, ms: performance.now() - r.t0 });
        }
      } catch (e) {
        reject(e);
      } finally {
        s.destroy();
      }
    });
  });
}
