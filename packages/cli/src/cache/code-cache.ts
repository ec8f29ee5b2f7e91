import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * V8's compiled code for an image, kept between runs (like a JIT's persistent cache), so that
 * a boot skips compiling what the previous boot compiled. Keyed by the image's hash and the
 * Node version, since a cache is only good for the V8 that wrote it; V8 rejects a stale one
 * and the machine then writes a fresh one. Failing to read or write it never fails a run.
 */
export function openCodeCache(image: Uint8Array): { data?: Uint8Array; onUpdate(data: Uint8Array): void } {
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'uk', 'code');
  const key = `${createHash('sha256').update(image).digest('hex').slice(0, 24)}-${process.version}-${process.arch}.v8`;
  const file = join(dir, key);
  let data: Uint8Array | undefined;
  try {
    data = new Uint8Array(readFileSync(file));
  } catch {
    data = undefined;
  }
  return {
    data,
    onUpdate(fresh) {
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, fresh);
        renameSync(tmp, file);
      } catch {
        // A read-only or full disk only costs the next boot its compile time.
      }
    },
  };
}
