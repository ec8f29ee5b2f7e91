import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { imageKey, openCodeCache } from '../src/cache/code-cache.js';

describe('the code cache', () => {
  const saved = process.env.XDG_CACHE_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });

  it('keys an image by its bytes: equal bytes, equal keys; any one-byte change, another key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, delta) => {
        const copy = bytes.slice();
        expect(imageKey(copy)).toBe(imageKey(bytes));
        copy[at % copy.length] = (copy[at % copy.length] + delta) & 0xff;
        expect(imageKey(copy)).not.toBe(imageKey(bytes));
      }),
    );
    // Length is part of the key: a prefix never shares it.
    expect(imageKey(new Uint8Array(8))).not.toBe(imageKey(new Uint8Array(9)));
  });

  it('stores what the machine hands back and gives it to the next run of the same image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uk-cache-'));
    process.env.XDG_CACHE_HOME = dir;
    try {
      const image = new TextEncoder().encode('/*uk-image 1*/ __ukImage = 1;');
      const first = openCodeCache(image);
      expect(first.data).toBeUndefined();
      first.onUpdate(new Uint8Array([1, 2, 3]));
      expect(Array.from(openCodeCache(image).data ?? [])).toEqual([1, 2, 3]);
      expect(openCodeCache(new TextEncoder().encode('/*uk-image 1*/ __ukImage = 2;')).data).toBeUndefined();
      const files = readdirSync(join(dir, 'uk', 'code'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(new RegExp(`-${process.version}-${process.arch}\\.v8$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(dir)).toBe(false);
  });
});
