import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import vm from 'node:vm';
import { DEFAULT_BOARD } from '@uk/boot';
import { IMAGE_GLOBAL, IMAGE_MAGIC, wrapImage } from '@uk/vmm';
import { UsageError } from '../errors.js';
import type { App } from './app.js';

export interface ComponentInfo {
  name: string;
  package: string;
  /** The version of the package the component comes from (the app's own for its components). */
  version?: string;
  level: number;
  requires: string[];
  provides: string[];
}

export interface PackageCost {
  name: string;
  version: string;
  bytes: number;
}

/** What `uk build` writes beside every image. */
export interface Manifest {
  format: 1;
  app: { name: string; version: string };
  image: string;
  bytes: number;
  sha256: string;
  components: ComponentInfo[];
  packages: PackageCost[];
}

export interface BuildResult {
  imagePath: string;
  manifestPath: string;
  manifest: Manifest;
  ms: number;
}

/**
 * Bundles an app's kernel into one minified script that imports nothing — the image — and a
 * manifest of what it holds. Tree-shaking plays the part of Unikraft's dead-code elimination.
 */
export async function buildApp(app: App, outDir = join(app.dir, 'dist')): Promise<BuildResult> {
  const t0 = performance.now();
  const entry = JSON.stringify(app.entry);
  let { code, bytes, metafile } = await bundle(app, `import kernel from ${entry};\n${IMAGE_GLOBAL} = kernel;\n`);
  let components = readComponents(code, app);
  if (!components.hasPlatform) {
    // The app named no board: compose the default one's base and the drivers for the services
    // its components require, and bundle again — a kernel that takes no interrupt links no
    // interrupt controller.
    const required = new Set(components.flatMap((c) => c.requires));
    const pieces = [DEFAULT_BOARD.base, ...Object.entries(DEFAULT_BOARD.byService).filter(([id]) => required.has(id)).map(([, f]) => f)];
    const withBoard = `import kernel from ${entry};\nimport { ${pieces.join(', ')} } from '@uk/boot';\n${IMAGE_GLOBAL} = kernel.with([${pieces.map((f) => `${f}()`).join(', ')}]);\n`;
    ({ code, bytes, metafile } = await bundle(app, withBoard));
    components = readComponents(code, app);
  }
  const missing = missingFromComponents(components);
  if (missing.length > 0) {
    const m = missing[0];
    throw new UsageError(`${app.name}: component ${m.component} needs the "${m.service}" service, which no composed component provides: add ${m.hint}`);
  }
  const packages = costByPackage(metafile, app);
  const versions = new Map(packages.map((p) => [p.name, p.version]));
  const manifest: Manifest = {
    format: 1,
    app: { name: app.name, version: app.version },
    image: `${app.name}.uk.js`,
    bytes: bytes.length,
    sha256: process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex'),
    components: components.map((c) => ({ ...c, version: versions.get(c.package) ?? app.version })),
    packages,
  };
  mkdirSync(outDir, { recursive: true });
  const imagePath = join(outDir, `${app.name}.uk.js`);
  const manifestPath = join(outDir, `${app.name}.uk.json`);
  writeFileSync(imagePath, bytes);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { imagePath, manifestPath, manifest, ms: performance.now() - t0 };
}

type Metafile = { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };

/** One esbuild run: `contents` is the image's entry module, resolved from the app's directory. */
async function bundle(app: App, contents: string): Promise<{ code: string; bytes: Uint8Array; metafile: Metafile }> {
  // Loaded on demand: `uk run` of a ready image should not pay for the bundler.
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    // The image assigns the kernel to a variable the machine declares around it (see
    // wrapImage): no module-interop helpers, no global left behind.
    stdin: { contents, resolveDir: app.dir, sourcefile: 'uk-image-entry.js', loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    treeShaking: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['uk-source'],
    mainFields: ['module', 'main'],
    metafile: true,
    banner: { js: IMAGE_MAGIC },
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: app.dir,
  }).catch((e: { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }) => {
    const first = e.errors?.[0];
    if (first === undefined) throw e;
    const at = first.location ? `${first.location.file}:${first.location.line}: ` : '';
    const hint = /Could not resolve "(@[^"/]+\/[^"/]+|[^"/]+)/.exec(first.text);
    throw new UsageError(`${app.name}: ${at}${first.text}${hint ? ` — add it with \`pnpm add ${hint[1]}\` in ${app.dir}` : ''}`);
  });
  const out = result.outputFiles[0];
  return { code: out.text, bytes: out.contents, metafile: result.metafile };
}

interface KernelShape {
  hasPlatform?: boolean;
  components?: Array<{
    name: string;
    package?: string;
    level: number;
    requires?: Array<{ id: string; providedBy: string }>;
    provides?: Array<{ id: string }>;
  }>;
}

/** Evaluates the image in an empty realm to read its composition (kernel() only composes). */
function readComponents(code: string, app: App): ComponentInfo[] & { hints?: Map<string, string>; hasPlatform: boolean } {
  const realm = vm.createContext({});
  let k: KernelShape | undefined;
  try {
    k = vm.runInContext(wrapImage(code), realm, { timeout: 5000 }) as KernelShape | undefined;
  } catch (e) {
    throw new UsageError(`${app.name}: evaluating the kernel entry failed: ${(e as Error).message}`);
  }
  if (k === undefined || !Array.isArray(k.components)) {
    throw new UsageError(`${app.name}: ${relative(app.dir, app.entry)} must \`export default kernel({...})\` (from @uk/boot)`);
  }
  const hints = new Map<string, string>();
  const list = k.components.map((c) => {
    for (const r of c.requires ?? []) hints.set(r.id, r.providedBy);
    return {
      name: c.name,
      package: c.package ?? 'app',
      level: c.level,
      requires: (c.requires ?? []).map((r) => r.id),
      provides: (c.provides ?? []).map((p) => p.id),
    };
  });
  return Object.assign(list, { hints, hasPlatform: k.hasPlatform !== false });
}

function missingFromComponents(components: ComponentInfo[] & { hints?: Map<string, string> }): Array<{ component: string; service: string; hint: string }> {
  const provided = new Set(components.flatMap((c) => c.provides));
  const missing: Array<{ component: string; service: string; hint: string }> = [];
  for (const c of components) {
    for (const r of c.requires) if (!provided.has(r)) missing.push({ component: c.name, service: r, hint: components.hints?.get(r) ?? r });
  }
  return missing;
}

/** Bytes each package contributes to the image, from the bundler's metafile. */
function costByPackage(meta: Metafile, app: App): PackageCost[] {
  const costs = new Map<string, PackageCost>();
  const pkgCache = new Map<string, { name: string; version: string }>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = owningPackage(resolve(app.dir, input), pkgCache) ?? { name: '(bundler runtime)', version: '' };
      const entry = costs.get(pkg.name) ?? { name: pkg.name, version: pkg.version, bytes: 0 };
      entry.bytes += bytesInOutput;
      costs.set(pkg.name, entry);
    }
  }
  return [...costs.values()].sort((a, b) => b.bytes - a.bytes);
}

function owningPackage(file: string, cache: Map<string, { name: string; version: string }>): { name: string; version: string } | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const hit = cache.get(dir);
    if (hit) return hit;
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      const info = { name: pkg.name ?? dir, version: pkg.version ?? '' };
      cache.set(dir, info);
      return info;
    }
  }
  return undefined;
}
