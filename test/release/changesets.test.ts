import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The release flow of docs/releasing.md, run on a copy of the workspace's manifests: a
// changeset in, `changeset version` run, versions and changelogs out. The copy keeps the
// repository untouched and needs neither git nor the network.
const root = fileURLToPath(new URL('../..', import.meta.url));
const changesetBin = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const workspaceDirs = ['packages', 'apps', 'examples'].flatMap((top) =>
  readdirSync(join(root, top))
    .map((name) => `${top}/${name}`)
    .filter((d) => existsSync(join(root, d, 'package.json'))),
);

/** A changesets `ignore` entry as a pattern: `*` stands for any run of characters but `/`. */
const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'uk-release-'));
  for (const f of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(dirname(join(scratch, f)), { recursive: true });
    cpSync(join(root, f), join(scratch, f));
  }
  for (const d of workspaceDirs) {
    mkdirSync(join(scratch, d), { recursive: true });
    cpSync(join(root, d, 'package.json'), join(scratch, d, 'package.json'));
  }
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('releases with changesets', () => {
  it('the configuration names only packages of the workspace, and ignores every private or example one', () => {
    const config = readJson(join(root, '.changeset/config.json'));
    expect(config.access).toBe('public');
    const names = new Map(workspaceDirs.map((d) => [readJson(join(root, d, 'package.json')).name as string, d]));
    const ignore = (config.ignore as string[]).map(glob);
    for (const [i, re] of ignore.entries()) {
      expect([...names.keys()].some((n) => re.test(n)), `ignore entry ${config.ignore[i]} matches no workspace package`).toBe(true);
    }
    // What is published is exactly packages/*: apps and examples are never released from here.
    for (const [name, dir] of names) {
      const pkg = readJson(join(root, dir, 'package.json'));
      const released = !pkg.private && !ignore.some((re) => re.test(name));
      expect(released, `${name} (${dir})`).toBe(dir.startsWith('packages/'));
    }
  });

  it('`changeset version` bumps the package, patches its dependents and writes their changelogs', () => {
    const before = readJson(join(scratch, 'packages/net/package.json')).version as string;
    const vmmBefore = readJson(join(scratch, 'packages/vmm/package.json')).version as string;
    writeFileSync(join(scratch, '.changeset/test-change.md'), '---\n"@uk/net": minor\n---\n\nTCP: a change users should hear about.\n');
    execFileSync(process.execPath, [changesetBin, 'version'], { cwd: scratch, stdio: 'pipe', env: { ...process.env, CI: 'true' } });

    const [major, minor] = before.split('.').map(Number);
    const net = readJson(join(scratch, 'packages/net/package.json'));
    expect(net.version).toBe(`${major}.${minor + 1}.0`);
    const changelog = readFileSync(join(scratch, 'packages/net/CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## ${net.version}`);
    expect(changelog).toContain('TCP: a change users should hear about.');

    // @uk/vmm depends on @uk/net: a patch release that names the new version.
    const vmm = readJson(join(scratch, 'packages/vmm/package.json'));
    const [vMajor, vMinor, vPatch] = vmmBefore.split('.').map(Number);
    expect(vmm.version).toBe(`${vMajor}.${vMinor}.${vPatch + 1}`);
    expect(vmm.dependencies['@uk/net']).toBe('workspace:*');
    expect(readFileSync(join(scratch, 'packages/vmm/CHANGELOG.md'), 'utf8')).toContain(`@uk/net@${net.version}`);

    // A package nothing changed is left alone; the changeset is consumed.
    expect(readJson(join(scratch, 'packages/hal/package.json')).version).toBe(readJson(join(root, 'packages/hal/package.json')).version);
    expect(existsSync(join(scratch, '.changeset/test-change.md'))).toBe(false);
  });

  it('every released package has a changelog in the repository', () => {
    for (const d of workspaceDirs.filter((x) => x.startsWith('packages/'))) {
      const log = readFileSync(join(root, d, 'CHANGELOG.md'), 'utf8');
      const { name, version } = readJson(join(root, d, 'package.json'));
      expect(log.startsWith(`# ${name}\n`), d).toBe(true);
      expect(log, d).toContain(`## ${version}`);
    }
  });
});
