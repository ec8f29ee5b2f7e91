import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'uk-cli-'));

function uk(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasDtc = spawnSync('dtc', ['--version']).status === 0;

let image = '';
beforeAll(() => {
  const r = uk(['build', 'apps/hello', '--out-dir', tmp]);
  expect(r.code, r.stderr).toBe(0);
  image = join(tmp, 'hello.uk.js');
});

describe('uk build', () => {
  it('prints the bytes of the image and of each package, and keeps hello small', () => {
    const r = uk(['build', 'apps/hello', '--out-dir', tmp]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/@uk\/boot\s+\d+\.\d+\.\d+\s+\d+/);
    const m = /hello\.uk\.js: (\d+) bytes/.exec(r.stdout);
    expect(m).not.toBeNull();
    const bytes = Number(m?.[1]);
    expect(bytes).toBe(readFileSync(image).length);
    // The smallest kernel stays within 16 KB (16,000 bytes, not KiB).
    expect(bytes).toBeLessThanOrEqual(16_000);
  });

  it('writes a manifest whose sha256 and byte counts describe the image', () => {
    const manifest = JSON.parse(readFileSync(join(tmp, 'hello.uk.json'), 'utf8'));
    expect(manifest.bytes).toBe(readFileSync(image).length);
    // hello names no platform: the build composed the board's base (console, power-off) and,
    // as nothing requires interrupts or a timer, no interrupt controller and no timer.
    expect(manifest.components).toEqual([expect.objectContaining({ name: 'plat-virt', package: '@uk/plat-virt', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })]);
    expect(readFileSync(image, 'utf8')).not.toContain('riscv,plic0');
    const sum = manifest.packages.reduce((s: number, p: { bytes: number }) => s + p.bytes, 0);
    expect(sum).toBeLessThanOrEqual(manifest.bytes);
    expect(sum).toBeGreaterThan(manifest.bytes * 0.9);
    // What hello does not compose contributes zero bytes.
    const names = manifest.packages.map((p: { name: string }) => p.name);
    for (const absent of ['@uk/alloc', '@uk/paging', '@uk/sched', '@uk/vmm']) expect(names).not.toContain(absent);
  });

  it('composes the board drivers that the components require, and only those', () => {
    const out = join(tmp, 'threads');
    const r = uk(['build', 'test/integration/fixtures/threads', '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'threads-fixture.uk.json'), 'utf8'));
    const names = manifest.components.map((c: { name: string }) => c.name);
    // coop() requires the clock; nothing requires interrupts from a device.
    expect(names).toContain('plat-virt-clock');
    expect(names).not.toContain('plat-virt-irq');
    expect(names.indexOf('plat-virt')).toBeLessThan(names.indexOf('plat-virt-clock'));
  });

  it('rejects a directory that is not an app', () => {
    const r = uk(['build', tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/package\.json is missing/);
  });
});

describe('uk run', () => {
  for (const mode of ['inline', 'isolated']) {
    it(`boots hello in ${mode} mode`, () => {
      const r = uk(['run', '--mode', mode, image, '--', 'tester']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Hello, tester, from uk!');
      expect(r.stdout).toMatch(/RAM: 64 MiB at 0x80000000/);
      expect(r.stdout).toContain('ns16550a');
      expect(r.stdout).toMatch(/Boot: \d+ us from kernel entry to main/);
    });

    it(`exits with main's result in ${mode} mode`, () => {
      const r = uk(['run', '--mode', mode, '--env', 'HELLO_EXIT=3', image]);
      expect(r.code).toBe(3);
    });
  }

  it('builds and boots an app directory', () => {
    const r = uk(['run', 'apps/hello', '--mem', '128M']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/RAM: 128 MiB/);
  });

  it.each([
    ['a missing file', () => join(tmp, 'nope.uk.js'), /does not exist/],
    ['an empty file', () => writeTmp('empty.uk.js', ''), /is empty/],
    ['a file that is not an image', () => writeTmp('text.uk.js', 'console.log(1)\n'), /is not a uk image/],
  ])('refuses %s with one line naming the file and exit status 2', (_what, make, message) => {
    const path = make();
    const r = uk(['run', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(path);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stops a guest that spins past --timeout: 124 isolated; the process ends in inline mode', () => {
    const spin = writeTmp('spin.uk.js', '/*uk-image 1*/var __ukImage = { default: { async start() { for (;;) {} } } };');
    const isolated = uk(['run', '--timeout', '0.3', spin]);
    expect(isolated.code).toBe(124);
    expect(isolated.stderr).toMatch(/still running after 300 ms/);
    const inline = uk(['run', '--mode', 'inline', '--timeout', '0.3', spin]);
    expect(inline.code).toBeNull(); // killed by its watchdog
    expect(inline.stderr).toMatch(/never yielded to the machine/);
  });

  it('refuses bad options with exit status 2', () => {
    expect(uk(['run', '--mode', 'fast', image]).code).toBe(2);
    expect(uk(['run', '--mem', 'lots', image]).code).toBe(2);
    expect(uk(['run', '--bogus', image]).code).toBe(2);
  });
});

describe('uk inspect', () => {
  it('shows a table of components and bytes', () => {
    const r = uk(['inspect', image]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/component\s+package\s+version\s+init level/);
    expect(r.stdout).toMatch(/plat-virt\s+@uk\/plat-virt/);
    expect(r.stdout).toMatch(/matches the manifest/);
  });
});

describe('uk dtb', () => {
  it('gives a typed error and exit status 2 for a malformed blob', () => {
    const bad = writeTmp('bad.dtb', '\xd0\x0d\xfe\xedtruncated');
    const r = uk(['dtb', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid device tree blob: .*\[FDT_[A-Z_]+\]/);
  });

  it.runIf(hasDtc)('prints the machine tree as dtc does', () => {
    const dtb = join(tmp, 'machine.dtb');
    expect(uk(['dtb', '-o', dtb]).code).toBe(0);
    const ours = uk(['dtb', dtb]).stdout;
    const theirs = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', dtb], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(ours).toBe(theirs);
  });
});

describe('uk new', () => {
  it('scaffolds an app that builds and boots at once', () => {
    const parent = mkdtempSync(join(tmpdir(), 'uk-new-'));
    const r = uk(['new', 'my-app'], { cwd: parent });
    expect(r.code, r.stderr).toBe(0);
    const app = join(parent, 'my-app');
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@uk/boot']).toMatch(/^\^\d+\.\d+\.\d+$/);
    // What \`pnpm install\` would link, taken from this workspace.
    mkdirSync(join(app, 'node_modules', '@uk'), { recursive: true });
    for (const p of ['boot', 'hal', 'fdt', 'plat-virt']) symlinkSync(join(root, 'packages', p), join(app, 'node_modules', '@uk', p));
    const build = uk(['build', app]);
    expect(build.code, build.stderr).toBe(0);
    const run = uk(['run', app, '--', 'x']);
    expect(run.stdout).toContain('Hello from my-app! argv: ["x"]');
    expect(run.code).toBe(0);
    expect(uk(['new', 'my-app'], { cwd: parent }).code).toBe(2);
    expect(uk(['new', 'Bad Name'], { cwd: parent }).code).toBe(2);
  });
});

describe('uk --help', () => {
  it.each(['new', 'build', 'run', 'inspect', 'dtb'])('documents %s', (verb) => {
    const r = uk([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: uk ${verb}`));
    expect(r.stdout).toMatch(/Options:/);
  });

  it('lists every command', () => {
    const r = uk(['--help']);
    for (const verb of ['new', 'build', 'run', 'inspect', 'dtb']) expect(r.stdout).toContain(`  ${verb}`);
  });

  it('names an unknown command', () => {
    const r = uk(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command frobnicate/);
  });
});

function writeTmp(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, Buffer.from(text, 'latin1'));
  return p;
}
