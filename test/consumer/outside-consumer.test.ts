import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * uk as someone outside this repository meets it: every publishable package packed to a
 * tarball, installed from those tarballs into a fresh project in the temporary directory (the
 * @uk packages are on no registry, and a same-named package there must never be picked up),
 * a kernel written against the installed packages, built by the installed `uk` and booted
 * with a forwarded TCP port that the test talks to.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixture', import.meta.url));
const STEP_MS = 180_000;

/** What the kernel needs, as a consumer would `pnpm add` it (the rest is added too, to load each). */
const KERNEL_DEPS = ['@uk/boot', '@uk/virtio-net', '@uk/net', '@uk/alloc', '@uk/sched'];
const TOOL_DEPS = ['@uk/cli', '@uk/vmm'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  keywords?: string[];
  repository?: { type?: string; url?: string; directory?: string };
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  files?: string[];
  exports?: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  /** The package's directory under packages/. */
  dir: string;
  /** Its package.json in the workspace. */
  source: Manifest;
  tarball: string;
  /** The files in the tarball, relative to the package root. */
  files: Map<string, Buffer>;
  /** The package.json that went into the tarball. */
  manifest: Manifest;
}

let packDir = '';
let project = '';
let guest: ChildProcess | undefined;
const packed = new Map<string, Packed>();
/** Steps done, so that a later step fails at once, naming the one it needs, when that failed. */
const done = new Set<'pack' | 'install' | 'build'>();

function after(step: 'pack' | 'install' | 'build'): void {
  expect(done.has(step), `this step needs the "${step}" step, which failed`).toBe(true);
}

beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), 'uk-consumer-pack-'));
  project = mkdtempSync(join(tmpdir(), 'uk-consumer-'));
});

afterAll(() => {
  if (guest !== undefined && guest.exitCode === null && guest.signalCode === null) guest.kill('SIGKILL');
  for (const dir of [packDir, project]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** pnpm as the test was started by (`pnpm test`, `pnpm vitest`), else the one on PATH. */
function pnpm(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /pnpm\.c?js$/.test(execPath)) return [process.execPath, [execPath]];
  return ['pnpm', []];
}

/** The environment minus what a pnpm script run in the workspace sets about the workspace. */
function outsideEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_config_(frozen_lockfile|workspace|dir$|prefix$))|^(PNPM_SCRIPT_SRC_DIR|PNPM_PACKAGE_NAME|INIT_CWD)$/i.test(key)) delete env[key];
  }
  return env;
}

function run(command: string, args: string[], cwd: string): { stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env: outsideEnv(), encoding: 'utf8', timeout: STEP_MS, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`\`${[command, ...args].join(' ')}\` in ${cwd} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

function runPnpm(args: string[], cwd: string): { stdout: string; stderr: string } {
  const [command, prefix] = pnpm();
  return run(command, [...prefix, ...args], cwd);
}

/** The regular files of a .tgz as npm packs it (ustar, maybe pax headers), `package/` stripped. */
function readTarball(file: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(file));
  const field = (block: Buffer, start: number, length: number) => block.toString('utf8', start, start + length).replace(/\0[\s\S]*$/, '');
  const files = new Map<string, Buffer>();
  let paxPath: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const prefix = field(header, 345, 155);
    const path = paxPath ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    paxPath = undefined;
    if (type === '0' || type === '\0') files.set(path.replace(/^[^/]+\//, ''), body);
  }
  return files;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Every path a manifest promises: exports (each condition), main, types, bin. */
function promisedFiles(m: Manifest): string[] {
  const paths = [m.main, m.types, ...Object.values(m.bin ?? {})];
  for (const conditions of Object.values(m.exports ?? {})) paths.push(...Object.values(conditions));
  return paths.filter((p): p is string => p !== undefined).map((p) => p.replace(/^\.\//, ''));
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Every package directory and bin under a node_modules, pnpm's virtual store included. */
function installedPaths(nodeModules: string): string[] {
  const out: string[] = [];
  const packagesIn = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === '.pnpm' || name === '.modules.yaml' || name === '.pnpm-workspace-state-v1.json') continue;
      const path = join(dir, name);
      if (name === '.bin' || name.startsWith('@')) {
        for (const inner of readdirSync(path)) out.push(join(path, inner));
      } else out.push(path);
    }
  };
  packagesIn(nodeModules);
  const store = join(nodeModules, '.pnpm');
  packagesIn(join(store, 'node_modules'));
  for (const entry of readdirSync(store)) {
    if (entry !== 'node_modules' && statSync(join(store, entry)).isDirectory()) packagesIn(join(store, entry, 'node_modules'));
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('an outside consumer of the packed packages', () => {
  it(
    'packs every publishable package, with workspace:* rewritten to versions',
    () => {
      const workspace = readdirSync(join(repo, 'packages'))
        .filter((dir) => existsSync(join(repo, 'packages', dir, 'package.json')))
        .map((dir) => ({ dir, source: readJson<Manifest>(join(repo, 'packages', dir, 'package.json')) }))
        .filter((p) => p.source.private !== true);
      expect(workspace.length).toBeGreaterThan(10);
      const versions = new Map(workspace.map((p) => [p.source.name, p.source.version]));

      const out = runPnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', packDir, '--json'], repo);
      const reported = JSON.parse(out.stdout) as Array<{ name: string; filename: string }> | { name: string; filename: string };
      const byName = new Map((Array.isArray(reported) ? reported : [reported]).map((r) => [r.name, r.filename]));
      expect([...byName.keys()].sort()).toEqual([...versions.keys()].sort());

      for (const { dir, source } of workspace) {
        const tarball = byName.get(source.name) as string;
        expect(isInside(packDir, tarball), `${source.name} packed outside the pack directory: ${tarball}`).toBe(true);
        const files = readTarball(tarball);
        const manifest = JSON.parse((files.get('package.json') as Buffer).toString('utf8')) as Manifest;
        packed.set(source.name, { dir, source, tarball, files, manifest });

        expect(manifest.name).toBe(source.name);
        expect(JSON.stringify(manifest), `${source.name}'s packed package.json still says workspace:`).not.toContain('workspace:');
        for (const deps of [manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies, manifest.devDependencies]) {
          for (const [dep, range] of Object.entries(deps ?? {})) {
            if (versions.has(dep)) expect(range, `${source.name} → ${dep}`).toBe(versions.get(dep));
          }
        }
        // The same list as the source's, nothing lost in packing.
        expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(Object.keys(source.dependencies ?? {}).sort());

        const missing = promisedFiles(manifest).filter((f) => !files.has(f));
        expect(missing, `${source.name} promises files its tarball lacks (run \`pnpm build\` first?)`).toEqual([]);
        expect(files.has('README.md'), `${source.name} has no README.md`).toBe(true);
        expect(files.has('LICENSE'), `${source.name} has no LICENSE`).toBe(true);

        // What a published package of this repository declares.
        expect(manifest.license, source.name).toBe('MIT');
        expect(manifest.sideEffects, source.name).toBe(false);
        expect(manifest.engines?.node, source.name).toMatch(/^>=\d/);
        expect(manifest.keywords?.length ?? 0, source.name).toBeGreaterThan(0);
        expect(manifest.repository?.directory, source.name).toBe(`packages/${dir}`);
        expect(manifest.files?.length ?? 0, source.name).toBeGreaterThan(0);
        expect(manifest.exports?.['.']?.types, source.name).toBe(manifest.types);
      }
      done.add('pack');
    },
    STEP_MS,
  );

  it(
    'installs the tarballs into a project outside the workspace that links nothing in it',
    () => {
      after('pack');
      expect(isInside(repo, project)).toBe(false);
      cpSync(fixture, project, { recursive: true });
      // Every @uk name, wherever it appears in the graph, is the tarball and never a registry's.
      const pkg = readJson<Record<string, unknown>>(join(project, 'package.json'));
      const overrides = Object.fromEntries([...packed.values()].map((p) => [p.manifest.name, `file:${p.tarball}`]));
      pkg.pnpm = { overrides, onlyBuiltDependencies: ['esbuild'] };
      writeFileSync(join(project, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

      const tarballs = (names: string[]) => names.map((n) => (packed.get(n) as Packed).tarball);
      const others = [...packed.keys()].filter((n) => !KERNEL_DEPS.includes(n) && !TOOL_DEPS.includes(n));
      const rootDev = readJson<Manifest>(join(repo, 'package.json')).devDependencies ?? {};
      runPnpm(['add', '--prefer-offline', ...tarballs([...KERNEL_DEPS, ...others])], project);
      runPnpm(['add', '--save-dev', '--prefer-offline', ...tarballs(TOOL_DEPS), `typescript@${rootDev.typescript}`, `@types/node@${rootDev['@types/node']}`], project);

      const installed = readJson<Manifest>(join(project, 'package.json'));
      for (const name of [...KERNEL_DEPS, ...others]) expect(installed.dependencies?.[name], name).toBe(`file:${packed.get(name)?.tarball}`);
      for (const name of TOOL_DEPS) expect(installed.devDependencies?.[name], name).toBe(`file:${packed.get(name)?.tarball}`);

      const lock = readFileSync(join(project, 'pnpm-lock.yaml'), 'utf8');
      expect(lock).not.toMatch(/link:|workspace:/);
      const nodeModules = join(project, 'node_modules');
      const paths = installedPaths(nodeModules);
      expect(paths.some((p) => p.endsWith(join('.bin', 'uk')))).toBe(true);
      const intoRepo = paths.filter((p) => isInside(repo, realpathSync(p)));
      expect(intoRepo, 'installed paths that resolve into the repository').toEqual([]);
      // Each @uk package is a copy of its tarball in the project's own store.
      const uk = paths.filter((p) => /[/\\]@uk[/\\][^/\\]+$/.test(p));
      expect(new Set(uk.map((p) => p.replace(/^.*[/\\]@uk[/\\]/, '@uk/')))).toEqual(new Set(packed.keys()));
      for (const p of uk) expect(isInside(join(nodeModules, '.pnpm'), realpathSync(p)), p).toBe(true);
      done.add('install');
    },
    STEP_MS,
  );

  it(
    "loads every package's build and type-checks against the installed declarations",
    () => {
      after('install');
      const names = [...packed.keys()].sort();
      // Every package's dist imports only what its package.json declares (pnpm resolves nothing else).
      const load = `const failed = [];
for (const name of ${JSON.stringify(names)}) {
  try { if (Object.keys(await import(name)).length === 0) failed.push(name + ': exports nothing'); }
  catch (e) { failed.push(name + ': ' + e.message); }
}
if (failed.length > 0) { console.error(failed.join('\\n')); process.exit(1); }`;
      run(process.execPath, ['--input-type=module', '-e', load], project);

      // The kernel against the kernel packages' declarations, with no Node types in sight.
      const tsc = join(project, 'node_modules', '.bin', 'tsc');
      run(tsc, ['-p', 'tsconfig.json'], project);
      // Every package's declarations, the host ones (vmm, cli) with Node's types.
      writeFileSync(
        join(project, 'every-package.ts'),
        `${names.map((n, i) => `import type * as p${i} from '${n}';`).join('\n')}\nexport type EveryPackage = [${names.map((_, i) => `typeof p${i}`).join(', ')}];\n`,
      );
      writeFileSync(join(project, 'tsconfig.host.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { types: ['node'] }, include: ['every-package.ts'] }));
      run(tsc, ['-p', 'tsconfig.host.json'], project);
    },
    STEP_MS,
  );

  it(
    'builds the kernel with the installed uk',
    () => {
      after('install');
      const { stdout, stderr } = run(join(project, 'node_modules', '.bin', 'uk'), ['build', '.'], project);
      const printed = /outside-consumer\.uk\.js: (\d+) bytes/.exec(stdout + stderr);
      expect(printed, `uk build printed no image size:\n${stdout}\n${stderr}`).not.toBeNull();
      const image = join(project, 'dist', 'outside-consumer.uk.js');
      const bytes = Number(printed?.[1]);
      expect(bytes).toBe(statSync(image).size);

      const manifest = readJson<{ bytes: number; components: Array<{ name: string; package: string }>; packages: Array<{ name: string; version: string; bytes: number }> }>(
        join(project, 'dist', 'outside-consumer.uk.json'),
      );
      expect(manifest.bytes).toBe(bytes);
      expect(manifest.components.map((c) => c.package)).toEqual(expect.arrayContaining(['@uk/alloc', '@uk/sched', '@uk/virtio-net', '@uk/net']));
      const inImage = new Map(manifest.packages.map((p) => [p.name, p]));
      for (const name of KERNEL_DEPS) {
        expect(inImage.get(name)?.version, name).toBe(packed.get(name)?.manifest.version);
        expect(inImage.get(name)?.bytes, name).toBeGreaterThan(0);
      }
      // Installed but not composed: not one byte in the image.
      for (const name of ['@uk/fatfs', '@uk/vfs', '@uk/virtio-blk', '@uk/paging']) expect(inImage.has(name), name).toBe(false);
      done.add('build');
    },
    STEP_MS,
  );

  it(
    "boots it, talks TCP to it through hostfwd, and exits with main's status",
    async () => {
      after('build');
      const port = await freePort();
      const uk = join(project, 'node_modules', '.bin', 'uk');
      const child = spawn(uk, ['run', '.', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:7`, '--timeout', '60'], { cwd: project, env: outsideEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      guest = child;
      let output = '';
      child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('exit', (code, signal) => resolve({ code, signal }));
        child.on('error', (e) => {
          output += `\n${e.message}`;
          resolve({ code: null, signal: null });
        });
      });

      // The host port is open from the start; the guest's is once DHCP is done and it listens.
      const listening = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 60_000);
        const check = () => {
          if (!/echo: listening on \d+\.\d+\.\d+\.\d+:7/.test(output)) return;
          clearTimeout(timer);
          resolve(true);
        };
        child.stdout?.on('data', check);
        void exited.then(() => resolve(false));
      });
      expect(listening, `the guest never listened:\n${output}`).toBe(true);

      const line = 'ping from outside the workspace\n';
      const received = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1');
        let text = '';
        sock.setTimeout(30_000, () => sock.destroy(new Error(`no answer from the guest; it said:\n${output}\nand sent ${JSON.stringify(text)}`)));
        sock.on('data', (b) => {
          text += b.toString();
          if (text === 'hello from uk\n') sock.write(line);
        });
        sock.on('end', () => sock.end());
        sock.on('close', () => resolve(text));
        sock.on('error', reject);
      });
      expect(received).toBe(`hello from uk\n${line}`);

      const { code, signal } = await exited;
      expect({ code, signal }, output).toEqual({ code: 0, signal: null });
      expect(output).toContain(`echo: done, ${line.length} bytes echoed`);
    },
    STEP_MS,
  );
});
