import { KernelError } from '@uk/hal';
import type { Vnode } from '../node/vnode.js';

/** The longest path accepted, in UTF-16 units (Linux's PATH_MAX, less the NUL). */
export const PATH_MAX = 4095;
/** Symbolic links followed in one lookup before ELOOP (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/** What a walk needs to know of the name space. */
export interface Namespace {
  /** The root directory (ENOENT when nothing is mounted at /). */
  root(): Vnode;
  /** The working directory and its ancestors, root first. */
  cwd(): readonly Vnode[];
  /** The root of what is mounted on `node`, or `node`. */
  crossMount(node: Vnode): Vnode;
}

/** Where a path leads. */
export interface Walk {
  /** The directory that holds the last name (for '/', the root itself). */
  readonly parent: Vnode;
  /** The last name: '' for '/', '.' or '..' when the path ends so. */
  readonly name: string;
  /** What the name is, or undefined when it does not exist (the parent does). */
  readonly node: Vnode | undefined;
  /** The directories from the root to `parent`, root first; `..` climbs this chain. */
  readonly chain: readonly Vnode[];
  /** The path ended in '/': the node must be a directory. */
  readonly trailingSlash: boolean;
}

/**
 * Resolves `path` one name at a time from the root (absolute) or the working directory
 * (relative). Every name but the last must be a directory, or a symlink to one; the last is
 * followed when it is a symlink and `followLast` is set (or the path ends in '/'). `..` is
 * physical: it climbs the directories actually walked, across mounts, and stops at the root.
 */
export async function walk(ns: Namespace, path: string, followLast: boolean): Promise<Walk> {
  if (path.length === 0) throw new KernelError('ENOENT', 'an empty path names nothing');
  if (path.length > PATH_MAX) throw new KernelError('ENAMETOOLONG', `a path of ${path.length} characters is longer than ${PATH_MAX}`);
  let chain: Vnode[] = path.charCodeAt(0) === 47 ? [ns.root()] : ns.cwd().slice();
  if (chain.length === 0) throw new KernelError('ENOENT', 'no file system is mounted at /');
  let names = splitPath(path);
  let trailingSlash = path.charCodeAt(path.length - 1) === 47 && names.length > 0;
  let links = 0;
  let i = 0;
  while (i < names.length) {
    const name = names[i];
    const last = i === names.length - 1;
    const dir = chain[chain.length - 1];
    if (dir.type !== 'directory') throw new KernelError('ENOTDIR', `${path}: a name before "${name}" is not a directory`);
    if (name === '.' || name === '..') {
      if (name === '..' && chain.length > 1) chain.pop();
      const here = chain[chain.length - 1];
      if (last) return { parent: here, name, node: here, chain, trailingSlash };
      i++;
      continue;
    }
    if (name.length > dir.fs.maxNameLength) {
      throw new KernelError('ENAMETOOLONG', `${path}: the name "${name.slice(0, 40)}..." is ${name.length} characters; this file system allows ${dir.fs.maxNameLength}`);
    }
    const found = await dir.lookup(name);
    if (found === undefined) {
      if (last) return { parent: dir, name, node: undefined, chain, trailingSlash };
      throw new KernelError('ENOENT', `${path}: there is no "${name}"`);
    }
    const child = ns.crossMount(found);
    if (child.type === 'symlink' && (!last || followLast || trailingSlash)) {
      if (++links > MAX_SYMLINKS) throw new KernelError('ELOOP', `${path}: more than ${MAX_SYMLINKS} symbolic links on the way (a loop?)`);
      const target = await child.readlink();
      if (target.length === 0) throw new KernelError('ENOENT', `${path}: the symbolic link "${name}" is empty`);
      const rest = names.slice(i + 1);
      if (target.charCodeAt(0) === 47) chain = [ns.root()];
      names = splitPath(target).concat(rest);
      if (rest.length === 0) trailingSlash = trailingSlash || target.charCodeAt(target.length - 1) === 47;
      i = 0;
      if (names.length === 0) {
        const here = chain[chain.length - 1];
        return { parent: here, name: '.', node: here, chain, trailingSlash };
      }
      continue;
    }
    if (last) return { parent: dir, name, node: child, chain, trailingSlash };
    chain.push(child);
    i++;
  }
  // "/", or a path of slashes only.
  const root = chain[chain.length - 1];
  return { parent: root, name: '', node: root, chain, trailingSlash: false };
}

/** The names of a path, without empty ones ("/a//b/" → ["a", "b"]). */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) out.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** `base` joined with `name` ("/" + "a" → "/a"). */
export function joinPath(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

/** The path with '.', '..' and repeated slashes folded lexically ("/a/./b/../c" → "/a/c"). */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const n of splitPath(path)) {
    if (n === '.') continue;
    if (n === '..') out.pop();
    else out.push(n);
  }
  return `/${out.join('/')}`;
}
