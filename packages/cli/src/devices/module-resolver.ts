import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Conditions Node's ESM loader matches for an import; "uk-source" is for the image bundler. */
const CONDITIONS = new Set(['node', 'import', 'default']);

/** Why a module could not be found; the caller words the one-line error. */
export class ModuleNotFound extends Error {
  constructor(
    message: string,
    /** The package to `pnpm add`, when a bare specifier names one that is not installed. */
    readonly missingPackage?: string,
  ) {
    super(message);
    this.name = 'ModuleNotFound';
  }
}

/** Whether `spec` is a path (./x, ../x, /x, file:...) rather than a package specifier. */
export function isPathSpecifier(spec: string): boolean {
  return spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('file:') || isAbsolute(spec);
}

/**
 * The file Node would load for `import(spec)` from a module in `fromDir`: a path relative to
 * `fromDir`, or a package found in the node_modules of `fromDir` or a directory above it,
 * through its package.json "exports" (the import conditions) or "main". The result is the
 * real path, so that the module's own imports resolve from where it lives.
 */
export function resolveModule(spec: string, fromDir: string): string {
  if (isPathSpecifier(spec)) return resolvePath(spec.startsWith('file:') ? fileURLToPath(spec) : resolve(fromDir, spec));
  const m = /^((?:@[^/@\s]+\/)?[^/@\s]+)(\/.*)?$/.exec(spec);
  if (m === null) throw new ModuleNotFound(`${spec} is neither a package name nor a path`);
  const [, name, rest] = m;
  const pkgDir = findPackage(name, fromDir);
  if (pkgDir === undefined) throw new ModuleNotFound(`cannot find package ${name} from ${fromDir}`, name);
  const pkg = readPackageJson(join(pkgDir, 'package.json'));
  const subpath = rest === undefined ? '.' : `.${rest}`;
  let target: string;
  if (pkg.exports !== undefined && pkg.exports !== null) {
    const t = resolveExports(pkg.exports, subpath);
    if (t === undefined) throw new ModuleNotFound(`package ${name} does not export "${subpath}" (its "exports": ${exportKeys(pkg.exports)})`);
    target = join(pkgDir, t);
  } else {
    target = join(pkgDir, subpath === '.' ? (typeof pkg.main === 'string' ? pkg.main : 'index.js') : subpath);
  }
  if (!existsSync(target)) throw new ModuleNotFound(`${spec} is ${target}, which does not exist; build ${name} first (pnpm build in ${pkgDir})`);
  return realpathSync(target);
}

function resolvePath(path: string): string {
  for (const candidate of [path, `${path}.js`, `${path}.mjs`]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return realpathSync(candidate);
  }
  if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'package.json'))) {
    const pkg = readPackageJson(join(path, 'package.json'));
    const t = pkg.exports !== undefined && pkg.exports !== null ? resolveExports(pkg.exports, '.') : typeof pkg.main === 'string' ? pkg.main : 'index.js';
    if (t !== undefined && existsSync(join(path, t))) return realpathSync(join(path, t));
  }
  throw new ModuleNotFound(`no such file: ${path}`);
}

/** The package's directory in the nearest node_modules, from `fromDir` up to the root. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface PackageJson {
  exports?: unknown;
  main?: unknown;
}

function readPackageJson(path: string): PackageJson {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch (e) {
    throw new ModuleNotFound(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Node's "exports" resolution for one subpath: exact keys, then "*" patterns (the longest
 * prefix wins), then conditions in the order the package lists them.
 */
export function resolveExports(exports: unknown, subpath: string): string | undefined {
  const map = isSubpathMap(exports) ? (exports as Record<string, unknown>) : { '.': exports };
  if (Object.hasOwn(map, subpath) && !subpath.includes('*')) return target(map[subpath], undefined);
  let best: { key: string; star: string } | undefined;
  for (const key of Object.keys(map)) {
    const at = key.indexOf('*');
    if (at < 0 || key.indexOf('*', at + 1) >= 0) continue;
    const prefix = key.slice(0, at);
    const suffix = key.slice(at + 1);
    if (subpath.length >= key.length && subpath.startsWith(prefix) && subpath.endsWith(suffix) && (best === undefined || prefix.length > best.key.indexOf('*'))) {
      best = { key, star: subpath.slice(prefix.length, subpath.length - suffix.length) };
    }
  }
  return best === undefined ? undefined : target(map[best.key], best.star);
}

function isSubpathMap(exports: unknown): boolean {
  return typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
}

function target(t: unknown, star: string | undefined): string | undefined {
  if (typeof t === 'string') {
    if (!t.startsWith('./')) return undefined;
    return star === undefined ? t : t.replaceAll('*', star);
  }
  if (Array.isArray(t)) {
    for (const item of t) {
      const r = target(item, star);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  if (typeof t === 'object' && t !== null) {
    for (const [condition, value] of Object.entries(t)) {
      if (!CONDITIONS.has(condition)) continue;
      const r = target(value, star);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

function exportKeys(exports: unknown): string {
  return isSubpathMap(exports) ? Object.keys(exports as object).map((k) => `"${k}"`).join(', ') : '"."';
}
