import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededSource } from '../../../examples/virtio-rng/src/device/index.js';
import { resolveExports } from '../src/devices/module-resolver.js';

// The device-module contract of `uk run`: `--device <module>[,key=value...]` and an app's
// package.json "uk.devices", through the built bin, with the third-party example
// @acme/virtio-rng (examples/virtio-rng, whose device model must be built: dist/device.js).

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const appDir = join(root, 'examples/rng-app');
const tmp = mkdtempSync(join(tmpdir(), 'uk-device-'));
let image = '';

function uk(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeTmp(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  const deviceBuild = join(root, 'examples/virtio-rng/dist/device.js');
  if (!existsSync(deviceBuild)) throw new Error(`${deviceBuild} is missing: build it first (pnpm exec turbo run build --filter=@acme/virtio-rng)`);
  const r = uk(['build', appDir, '--out-dir', tmp]);
  expect(r.code, r.stderr).toBe(0);
  image = join(tmp, 'rng-app.uk.js');
});

describe('uk run with device modules', () => {
  it('attaches the devices an app lists in package.json "uk.devices"', () => {
    const r = uk(['run', 'examples/rng-app']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('virtio-rng: rng0: virtio-mmio@10001000 (entropy)');
    expect(r.stdout).toMatch(/rng-app: 4096 random bytes from rng0 in \d+ us: ([0-9a-f]{2} ){16}\.\.\./);
    expect(r.stdout).toContain('looks uniform');
  });

  it('loads --device packages from the current directory and passes key=value options to the factory', () => {
    const r = uk(['run', '--mode', 'inline', image, '--device', '@acme/virtio-rng/device,seed=9,bytesPerRequest=64', '--', '2000'], appDir);
    expect(r.code, r.stderr).toBe(0);
    const want = new Uint8Array(16);
    seededSource(9)(want);
    expect(r.stdout).toContain(`rng-app: 2000 random bytes from rng0 in`);
    expect(r.stdout).toContain(`: ${Array.from(want, (b) => b.toString(16).padStart(2, '0')).join(' ')} ...`);
  });

  it('loads a device module from a path, after the other devices, with its options as given', () => {
    const out = join(tmp, 'options.json');
    const mod = writeTmp(
      'stub-device.mjs',
      `import { writeFileSync } from 'node:fs';
export default (options) => {
  writeFileSync(${JSON.stringify(out)}, JSON.stringify(options));
  // A slot whose registers read 0: no virtio magic, so the kernel leaves it alone.
  return { name: 'stub', attach: () => ({ read: () => 0, write() {} }) };
};
`,
    );
    const hello = uk(['build', 'apps/hello', '--out-dir', tmp]);
    expect(hello.code, hello.stderr).toBe(0);
    const r = uk(['run', '--mode', 'inline', join(tmp, 'hello.uk.js'), '--device', `${mod},a=1,b=x=y`]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ a: '1', b: 'x=y' });
    expect(r.stdout).toMatch(/0x10001000 {2}virtio,mmio/);
  });

  it.each([
    ['a missing file', ['--device', './no-such-module'], /^uk run: --device \.\/no-such-module: no such file: .*no-such-module$/],
    ['a package that is not installed', ['--device', '@acme/no-such-device'], /cannot find package @acme\/no-such-device from .*; add it with `pnpm add @acme\/no-such-device` in /],
    ['a subpath the package does not export', ['--device', '@acme/virtio-rng/nope'], /package @acme\/virtio-rng does not export "\.\/nope"/],
    ['an option the factory refuses', ['--device', '@acme/virtio-rng/device,bogus=1'], /^uk run: --device @acme\/virtio-rng\/device: virtio-rng: unknown option bogus/],
    ['an option without a value', ['--device', '@acme/virtio-rng/device,seed'], /option seed: expected key=value/],
  ])('refuses %s with one line and exit status 2', (_what, args, message) => {
    const r = uk(['run', image, ...args], appDir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it.each([
    ['has no default export function', 'export const device = 1;\n', /has no default export function; a device module must `export default \(options: Record<string, string>\) => SlotDevice`/],
    ['has a factory that throws', "export default () => { throw new Error('no entropy here\\nsecond line'); };\n", /: no entropy here$/],
    ['returns something else', 'export default () => ({ name: 1 });\n', /returned an object with keys name, not a SlotDevice/],
    ['does not load', 'export default (;\n', /loading .* failed: /],
  ])('refuses a module that %s with one line and exit status 2', (what, text, message) => {
    const mod = writeTmp(`${what.replace(/\W+/g, '-')}.mjs`, text);
    const r = uk(['run', image, '--device', mod]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('documents --device in uk run --help', () => {
    const r = uk(['run', '--help']);
    expect(r.stdout).toMatch(/--device <module>\[,key=value\.\.\.\]/);
    expect(r.stdout).toContain('"uk": { "devices": ["@acme/virtio-rng/device"] }');
  });
});

describe('package "exports" resolution', () => {
  it.each<[string, unknown, string, string | undefined]>([
    ['a string', './main.js', '.', './main.js'],
    ['conditions in the order listed, skipping uk-source', { '.': { 'uk-source': './src/index.ts', types: './d.ts', import: './dist/index.js' } }, '.', './dist/index.js'],
    ['a subpath', { '.': './a.js', './device': { import: './dist/device.js' } }, './device', './dist/device.js'],
    ['nested conditions', { './x': { node: { import: './n.mjs' }, default: './d.js' } }, './x', './n.mjs'],
    ['a pattern, longest prefix first', { './*': './all/*.js', './dev/*': './dev/*.js' }, './dev/rng', './dev/rng.js'],
    ['an array of fallbacks', { '.': [{ require: './c.cjs' }, './e.js'] }, '.', './e.js'],
    ['a missing subpath', { '.': './a.js' }, './nope', undefined],
    ['only require', { '.': { require: './c.cjs' } }, '.', undefined],
    ['a target outside the package', { '.': '../escape.js' }, '.', undefined],
  ])('resolves %s', (_what, exports, subpath, want) => {
    expect(resolveExports(exports, subpath)).toBe(want);
  });
});
