import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { HELP, VERSION } from './help.js';
import { options } from './options.js';

/** The workspace root above `dir`, when `dir` is inside uk's own monorepo. */
function ukWorkspace(dir: string): string | undefined {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'pnpm-workspace.yaml')) && existsSync(join(d, 'packages', 'boot', 'package.json'))) return d;
  }
  return undefined;
}

const kernelSource = (name: string) => `import { kernel } from '@uk/boot';

/**
 * ${name}: a uk unikernel. main receives argv (argv[0] is the app's name), the environment
 * from the kernel command line, and the kernel context; its result is the exit status.
 * Compose more components in kernel({...}): alloc, sched, drivers, fs, net.
 */
export default kernel({
  main(argv, env, ctx) {
    ctx.console.write(\`Hello from ${name}! argv: \${JSON.stringify(argv.slice(1))}\\n\`);
    return 0;
  },
});
`;

const testSource = (name: string) => `import { fileURLToPath } from 'node:url';
import { buildApp, findApp } from '@uk/cli';
import { Machine, readImage } from '@uk/vmm';
import { expect, it } from 'vitest';

it('boots and greets', async () => {
  const app = findApp(fileURLToPath(new URL('..', import.meta.url)));
  const { imagePath } = await buildApp(app);
  let out = '';
  const result = await new Machine({
    image: readImage(imagePath),
    bootargs: '-- ${name} test',
    timeoutMs: 10_000,
    output: (bytes) => (out += new TextDecoder().decode(bytes)),
  }).run();
  expect(out).toContain('Hello from ${name}!');
  expect(result.exitCode).toBe(0);
});
`;

export function newCommand(args: string[]): number {
  const { values, positionals } = options(args, { help: { type: 'boolean', short: 'h' } }, 'new');
  if (values.help) {
    process.stdout.write(HELP.new);
    return 0;
  }
  const target = positionals[0];
  if (target === undefined) throw new UsageError('uk new: name the app, e.g. uk new my-app (see uk new --help)');
  const dir = resolve(target);
  const name = basename(dir);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new UsageError(`uk new: ${name}: an app name is lower case letters, digits, '.', '_' and '-' (an npm package name)`);
  if (existsSync(dir)) throw new UsageError(`uk new: ${dir} already exists; choose another name or remove it`);

  // Inside uk's own monorepo the app uses the workspace's packages; elsewhere, published ones.
  const workspace = ukWorkspace(dirname(dir));
  const version = (pkg: string) => (workspace ? 'workspace:*' : `^${readVersion(workspace, pkg) ?? VERSION}`);
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    uk: { kernel: 'src/kernel.ts' },
    scripts: {
      build: 'uk build .',
      start: 'uk run .',
      test: 'vitest run',
    },
    dependencies: { '@uk/boot': version('boot') },
    devDependencies: { '@uk/cli': version('cli'), '@uk/vmm': version('vmm'), vitest: '^3.2.0' },
    engines: { node: '>=20.11' },
  };
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'test'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, 'src', 'kernel.ts'), kernelSource(name));
  writeFileSync(join(dir, 'test', 'kernel.test.ts'), testSource(name));
  writeFileSync(join(dir, '.gitignore'), 'node_modules/\ndist/\n');
  writeFileSync(
    join(dir, 'README.md'),
    `# ${name}\n\nA uk unikernel.\n\n\`\`\`sh\npnpm install\npnpm start        # uk run .: build and boot it\npnpm test         # build it, boot it, check what it prints\n\`\`\`\n\nAdd components with \`pnpm add @uk/<name>\` and compose them in \`src/kernel.ts\`.\n`,
  );
  const rel = relative(process.cwd(), dir) || '.';
  process.stdout.write(
    `created ${rel}: package.json, src/kernel.ts, test/kernel.test.ts\n\nnext:\n  cd ${rel}\n  pnpm install\n  pnpm start\n`,
  );
  return 0;
}

function readVersion(workspace: string | undefined, pkg: string): string | undefined {
  if (workspace === undefined) return undefined;
  try {
    return (JSON.parse(readFileSync(join(workspace, 'packages', pkg, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
