import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * V8's compiled code for an image, kept between runs (like a JIT's persistent cache), so that
 * a boot skips compiling what the previous boot compiled. Keyed by the image's hash and the
 * Node version, since a cache is only good for the V8 that wrote it; V8 rejects a stale one
 * and the machine then writes a fresh one. Failing to read or write it never fails a run.
 */
export function openCodeCache(image: Uint8Array): { data?: Uint8Array; onUpdate(data: Uint8Array): void } {
  const home = process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? process.getBuiltinModule('node:os').homedir(), '.cache');
  const dir = join(home, 'uk', 'code');
  const key = `${imageKey(image)}-${process.version}-${process.arch}.v8`;
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

/**
 * The image's key: two FNV-1a hashes with different seeds, 64 bits in hex. Not a digest an
 * attacker could not forge, and it need not be: V8 checks a cache against the source it is
 * given and rejects a mismatch. What matters is that computing it loads nothing (node:crypto
 * would cost a uk run some 4 ms) and takes well under a millisecond for any image.
 */
export function imageKey(image: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < image.length; i++) {
    a = Math.imul(a ^ image[i], 0x01000193);
    b = Math.imul(b ^ image[i], 0x01000193) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}${image.length.toString(16)}`;
}
