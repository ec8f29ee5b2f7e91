import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vfs } from '@uk/vfs';

/** A deterministic byte pattern (xorshift), so large files need no stored copy. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A tree of files: path (with '/') → content. Directories are implied, or listed with a null. */
export type Tree = Map<string, Uint8Array | null>;

/** The interop tree: long, non-ASCII and mixed-case names, nesting, and files of 0 B, 1 B, 4 KiB and 10 MiB. */
export function interopTree(bigBytes = 10 * 1024 * 1024): Tree {
  const t: Tree = new Map();
  t.set('empty.txt', new Uint8Array(0));
  t.set('one.bin', new Uint8Array([0x5a]));
  t.set('four-k.bin', pattern(4096, 7));
  t.set('big.bin', pattern(bigBytes, 11));
  t.set('A long file name with spaces.text', new TextEncoder().encode('long\n'));
  t.set('naïve café.txt', new TextEncoder().encode('accents\n'));
  t.set('日本語のファイル名.txt', new TextEncoder().encode('kanji\n'));
  t.set('MiXeD.CaSe', new TextEncoder().encode('mixed\n'));
  t.set('lower.txt', new TextEncoder().encode('lower\n'));
  t.set('UPPER.TXT', new TextEncoder().encode('upper\n'));
  t.set('.hidden-dotfile', new TextEncoder().encode('dot\n'));
  t.set('dir1', null);
  t.set('dir1/sub dir', null);
  t.set('dir1/sub dir/deeper', null);
  t.set('dir1/sub dir/deeper/file.txt', new TextEncoder().encode('deep\n'));
  // mtools keeps only the low 16 bits of characters beyond the BMP, so those are tested without it.
  t.set('dir1/sub dir/Привет мир.md', new TextEncoder().encode('cyrillic\n'));
  t.set('empty dir', null);
  t.set('many', null);
  for (let i = 0; i < 120; i++) t.set(`many/file number ${i}.dat`, pattern(100 + i, i + 100));
  return t;
}

/** Writes a tree under a host directory. */
export function writeHostTree(dir: string, tree: Tree): void {
  for (const [p, content] of tree) {
    const full = join(dir, p);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(join(full, '..'), { recursive: true });
      writeFileSync(full, content);
    }
  }
}

/** Writes a tree into a Vfs under `root`. */
export async function writeVfsTree(vfs: Vfs, root: string, tree: Tree): Promise<void> {
  for (const [p, content] of tree) {
    const full = `${root}/${p}`.replace(/\/+/g, '/');
    if (content === null) await vfs.mkdir(full, { recursive: true });
    else {
      const parent = full.slice(0, full.lastIndexOf('/'));
      if (parent !== '') await vfs.mkdir(parent, { recursive: true });
      await vfs.writeFile(full, content);
    }
  }
}

/** Reads everything under `root` of a Vfs: path → content (null for directories). */
export async function readVfsTree(vfs: Vfs, root: string): Promise<Tree> {
  const out: Tree = new Map();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await vfs.readdir(dir)) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = `${dir}/${e.name}`.replace(/\/+/g, '/');
      if (e.type === 'directory') {
        out.set(p, null);
        await walk(full, p);
      } else {
        out.set(p, await vfs.readFile(full));
      }
    }
  };
  await walk(root, '');
  return out;
}

/** A comparable summary: sorted paths with sizes and hashes. */
export function summary(tree: Tree): string[] {
  return [...tree]
    .map(([p, c]) => (c === null ? `${p}/` : `${p} ${c.length} ${sha(c).slice(0, 16)}`))
    .sort();
}
