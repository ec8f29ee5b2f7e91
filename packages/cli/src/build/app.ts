import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface App {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  /** The module whose default export is kernel({...}). */
  readonly entry: string;
}

/**
 * Finds an app: a directory with a package.json whose kernel entry is `uk.kernel` or, by
 * convention, src/kernel.ts. A bare name is also looked up under ./apps.
 */
export function findApp(spec: string): App {
  const candidates = [resolve(spec), resolve('apps', spec)];
  const dir = candidates.find((d) => existsSync(d) && statSync(d).isDirectory());
  if (dir === undefined) throw new UsageError(`${spec}: no such app directory (looked in ${spec} and apps/${spec})`);
  const pkgPath = join(dir, 'package.json');
  if (!existsSync(pkgPath)) throw new UsageError(`${spec}: not an app: ${pkgPath} is missing`);
  let pkg: { name?: string; version?: string; uk?: { kernel?: string } };
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  } catch (e) {
    throw new UsageError(`${pkgPath}: not valid JSON (${(e as Error).message})`);
  }
  const entry = join(dir, pkg.uk?.kernel ?? 'src/kernel.ts');
  if (!existsSync(entry)) {
    throw new UsageError(`${spec}: no kernel entry at ${entry}; create it (export default kernel({...})) or set "uk": { "kernel": "..." } in package.json`);
  }
  const name = (pkg.name ?? basename(dir)).replace(/^@[^/]+\//, '');
  return { dir, name, version: pkg.version ?? '0.0.0', entry };
}
