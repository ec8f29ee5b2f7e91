import { KernelError } from '@uk/hal';
import type { FileSystem, Vnode } from '../node/vnode.js';

/** A mounted file system. */
export interface Mount {
  /** Where it is mounted ('/', '/data'). */
  readonly path: string;
  readonly fs: FileSystem;
  /** The device number `stat` reports for its nodes. */
  readonly dev: number;
  /** The directory it hides (undefined for the root). */
  readonly covered: Vnode | undefined;
  /** Descriptors open on it: unmount waits for none. */
  openFiles: number;
}

/** What `mounts()` lists. */
export interface MountInfo {
  path: string;
  type: string;
  readOnly: boolean;
}

/**
 * The mount table. A mount hides a directory of another file system (its "covered" vnode);
 * a walk that reaches the covered vnode continues at the mounted root.
 */
export class MountTable {
  readonly #byCovered = new Map<Vnode, Mount>();
  readonly #byFs = new Map<FileSystem, Mount>();
  #root: Mount | undefined;
  #nextDev = 1;

  get root(): Mount | undefined {
    return this.#root;
  }

  rootNode(): Vnode {
    const r = this.#root;
    if (r === undefined) throw new KernelError('ENOENT', 'no file system is mounted at /: compose one, e.g. fs: { "/": ramfs() }');
    return r.fs.root;
  }

  crossMount(node: Vnode): Vnode {
    const m = this.#byCovered.get(node);
    return m === undefined ? node : m.fs.root;
  }

  /** The mount a node belongs to. */
  of(node: Vnode): Mount {
    const m = this.#byFs.get(node.fs);
    if (m === undefined) throw new KernelError('EINVAL', `inode ${node.ino} belongs to a ${node.fs.type} file system that is not mounted`);
    return m;
  }

  /** Whether a node is the root of a mount (the root of the tree included). */
  isMountRoot(node: Vnode): boolean {
    return this.#byFs.get(node.fs)?.fs.root === node;
  }

  add(path: string, fs: FileSystem, covered: Vnode | undefined): Mount {
    if (this.#byFs.has(fs)) throw new KernelError('EBUSY', `this ${fs.type} file system is mounted already, at ${this.#byFs.get(fs)?.path}`);
    if (covered === undefined) {
      if (this.#root !== undefined) throw new KernelError('EBUSY', `a ${this.#root.fs.type} file system is mounted at / already`);
    } else {
      if (this.#byCovered.has(covered) || this.isMountRoot(covered)) throw new KernelError('EBUSY', `${path} is a mount point already`);
      if (covered.type !== 'directory') throw new KernelError('ENOTDIR', `cannot mount on ${path}: it is not a directory`);
    }
    const m: Mount = { path, fs, dev: this.#nextDev++, covered, openFiles: 0 };
    this.#byFs.set(fs, m);
    if (covered === undefined) this.#root = m;
    else this.#byCovered.set(covered, m);
    return m;
  }

  remove(m: Mount): void {
    for (const other of this.#byFs.values()) {
      if (other !== m && other.covered !== undefined && other.covered.fs === m.fs) {
        throw new KernelError('EBUSY', `cannot unmount ${m.path}: ${other.path} is mounted inside it`);
      }
    }
    this.#byFs.delete(m.fs);
    if (m.covered === undefined) this.#root = undefined;
    else this.#byCovered.delete(m.covered);
  }

  /** Mounts, shallowest first (unmount in reverse). */
  list(): Mount[] {
    return [...this.#byFs.values()].sort((a, b) => a.path.length - b.path.length || (a.path < b.path ? -1 : 1));
  }

  find(path: string): Mount | undefined {
    for (const m of this.#byFs.values()) if (m.path === path) return m;
    return undefined;
  }
}
