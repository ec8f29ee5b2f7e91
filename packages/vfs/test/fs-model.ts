import fc from 'fast-check';
import { isKernelError } from '@uk/hal';
import type { Vfs } from '../src/index.js';

/**
 * A file system as simply as it can be said: nested maps of names. Operations follow the
 * POSIX rules the VFS implements, in the same order of checks, so that the real thing and
 * the model agree on every result and every error code. `fold` maps a name to its lookup
 * key: the identity for ramfs, upper case for FAT.
 */
type MNode = { kind: 'file'; data: Uint8Array } | { kind: 'dir'; entries: Map<string, { name: string; node: MNode }> };

export type Op =
  | { op: 'create'; path: string; size: number; seed: number }
  | { op: 'write'; path: string; pos: number; size: number; seed: number }
  | { op: 'truncate'; path: string; size: number }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rename'; from: string; to: string };

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export function bytesOf(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export class FsModel {
  readonly root: MNode = { kind: 'dir', entries: new Map() };
  constructor(readonly fold: (name: string) => string) {}

  #walk(path: string): { parent: MNode & { kind: 'dir' }; name: string; node: MNode | undefined; chain: MNode[] } {
    const names = path.split('/').filter((n) => n !== '');
    let dir: MNode = this.root;
    const chain: MNode[] = [this.root];
    for (let i = 0; i < names.length - 1; i++) {
      if (dir.kind !== 'dir') throw new ModelError('ENOTDIR');
      const next = dir.entries.get(this.fold(names[i]));
      if (next === undefined) throw new ModelError('ENOENT');
      dir = next.node;
      chain.push(dir);
    }
    if (dir.kind !== 'dir') throw new ModelError('ENOTDIR');
    const name = names[names.length - 1];
    return { parent: dir, name, node: dir.entries.get(this.fold(name))?.node, chain };
  }

  apply(o: Op): string {
    try {
      this.#apply(o);
      return 'ok';
    } catch (e) {
      if (e instanceof ModelError) return e.code;
      throw e;
    }
  }

  #apply(o: Op): void {
    switch (o.op) {
      case 'create': {
        const w = this.#walk(o.path);
        if (w.node !== undefined) throw new ModelError('EEXIST');
        w.parent.entries.set(this.fold(w.name), { name: w.name, node: { kind: 'file', data: bytesOf(o.size, o.seed) } });
        return;
      }
      case 'write': {
        const w = this.#walk(o.path);
        if (w.node === undefined) throw new ModelError('ENOENT');
        if (w.node.kind === 'dir') throw new ModelError('EISDIR');
        const data = bytesOf(o.size, o.seed);
        if (data.length === 0) return;
        const end = o.pos + data.length;
        if (end > w.node.data.length) {
          const grown = new Uint8Array(end);
          grown.set(w.node.data);
          w.node.data = grown;
        }
        w.node.data.set(data, o.pos);
        return;
      }
      case 'truncate': {
        const w = this.#walk(o.path);
        if (w.node === undefined) throw new ModelError('ENOENT');
        if (w.node.kind === 'dir') throw new ModelError('EISDIR');
        const next = new Uint8Array(o.size);
        next.set(w.node.data.subarray(0, Math.min(o.size, w.node.data.length)));
        w.node.data = next;
        return;
      }
      case 'unlink': {
        const w = this.#walk(o.path);
        if (w.node === undefined) throw new ModelError('ENOENT');
        if (w.node.kind === 'dir') throw new ModelError('EISDIR');
        w.parent.entries.delete(this.fold(w.name));
        return;
      }
      case 'mkdir': {
        const w = this.#walk(o.path);
        if (w.node !== undefined) throw new ModelError('EEXIST');
        w.parent.entries.set(this.fold(w.name), { name: w.name, node: { kind: 'dir', entries: new Map() } });
        return;
      }
      case 'rmdir': {
        const w = this.#walk(o.path);
        if (w.node === undefined) throw new ModelError('ENOENT');
        if (w.node.kind !== 'dir') throw new ModelError('ENOTDIR');
        if (w.node.entries.size > 0) throw new ModelError('ENOTEMPTY');
        w.parent.entries.delete(this.fold(w.name));
        return;
      }
      case 'rename': {
        const a = this.#walk(o.from);
        const b = this.#walk(o.to);
        const node = a.node;
        if (node === undefined) throw new ModelError('ENOENT');
        const replaced = b.node;
        if (replaced === node) {
          if (a.parent !== b.parent || a.name === b.name) return;
        } else if (replaced !== undefined) {
          if (node.kind === 'dir' && replaced.kind !== 'dir') throw new ModelError('ENOTDIR');
          if (node.kind !== 'dir' && replaced.kind === 'dir') throw new ModelError('EISDIR');
        }
        if (node.kind === 'dir' && (b.parent === node || b.chain.includes(node))) throw new ModelError('EINVAL');
        if (replaced !== undefined && replaced !== node && replaced.kind === 'dir' && replaced.entries.size > 0) throw new ModelError('ENOTEMPTY');
        a.parent.entries.delete(this.fold(a.name));
        b.parent.entries.set(this.fold(b.name), { name: b.name, node });
        return;
      }
    }
  }

  /** path → size:hash (directories end in '/'), sorted. */
  snapshot(): string[] {
    const out: string[] = [];
    const walk = (n: MNode, prefix: string): void => {
      if (n.kind !== 'dir') return;
      for (const { name, node } of n.entries.values()) {
        const p = `${prefix}/${name}`;
        out.push(node.kind === 'dir' ? `${p}/` : `${p} ${digest(node.data)}`);
        walk(node, p);
      }
    };
    walk(this.root, '');
    return out.sort();
  }
}

function digest(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return `${b.length}:${h.toString(16)}`;
}

/** Runs an operation on a real Vfs; 'ok' or the KernelError's code. */
export async function applyVfs(vfs: Vfs, root: string, o: Op): Promise<string> {
  const p = (x: string) => `${root}${x}`;
  try {
    switch (o.op) {
      case 'create':
        await vfs.writeFile(p(o.path), bytesOf(o.size, o.seed), 'wx');
        break;
      case 'write': {
        const fd = await vfs.open(p(o.path), 'r+');
        try {
          await vfs.pwrite(fd, bytesOf(o.size, o.seed), o.pos);
        } finally {
          await vfs.close(fd);
        }
        break;
      }
      case 'truncate':
        await vfs.truncate(p(o.path), o.size);
        break;
      case 'unlink':
        await vfs.unlink(p(o.path));
        break;
      case 'mkdir':
        await vfs.mkdir(p(o.path));
        break;
      case 'rmdir':
        await vfs.rmdir(p(o.path));
        break;
      case 'rename':
        await vfs.rename(p(o.from), p(o.to));
        break;
    }
    return 'ok';
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
}

/** The Vfs's tree under `root`, in the model's snapshot form. */
export async function snapshotVfs(vfs: Vfs, root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await vfs.readdir(dir === '' ? '/' : dir)) {
      const p = `${prefix}/${e.name}`;
      if (e.type === 'directory') {
        out.push(`${p}/`);
        await walk(`${dir}/${e.name}`, p);
      } else {
        out.push(`${p} ${digest(await vfs.readFile(`${dir}/${e.name}`))}`);
      }
    }
  };
  await walk(root, '');
  return out.sort();
}

/**
 * Random operations over paths made of `names` (the first two are also used as directory
 * names), at most three levels deep, weighted so that most operations hit something.
 */
export function opsArbitrary(names: readonly string[], maxFile: number, maxOps = 60): fc.Arbitrary<Op[]> {
  const name = fc.constantFrom(...names);
  const dirName = fc.constantFrom(...names.slice(0, 2));
  const path = fc.oneof(
    { weight: 4, arbitrary: name.map((a) => `/${a}`) },
    { weight: 3, arbitrary: fc.tuple(dirName, name).map(([a, b]) => `/${a}/${b}`) },
    { weight: 1, arbitrary: fc.tuple(dirName, dirName, name).map(([a, b, c]) => `/${a}/${b}/${c}`) },
  );
  const size = fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: maxFile }));
  const seed = fc.integer({ min: 1, max: 1_000_000 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('create' as const), path, size, seed }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), path, pos: size, size, seed }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), path, size }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('unlink' as const), path }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), from: path, to: path }) },
  );
  return fc.array(op, { minLength: 5, maxLength: maxOps }).map((ops) => [...setupOps(names), ...ops]);
}

/** A populated start, so that random operations find things to act on. */
export function setupOps(names: readonly string[]): Op[] {
  const [d, e, f] = names;
  return [
    { op: 'mkdir', path: `/${d}` },
    { op: 'mkdir', path: `/${e}` },
    { op: 'mkdir', path: `/${d}/${e}` },
    { op: 'create', path: `/${f}`, size: 100, seed: 1 },
    { op: 'create', path: `/${d}/${f}`, size: 1000, seed: 2 },
    { op: 'create', path: `/${d}/${e}/${f}`, size: 10, seed: 3 },
  ];
}
