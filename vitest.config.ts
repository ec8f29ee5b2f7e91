import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source, not its build, so that one root run
// covers the whole tree without a build step in between.
const root = fileURLToPath(new URL('.', import.meta.url));
// Every export of every package (`@uk/net`, `@uk/net/address`...), at its "uk-source" file.
const alias = readdirSync(`${root}packages`)
  .filter((name) => existsSync(`${root}packages/${name}/package.json`))
  .flatMap((name) => {
    const exports: Record<string, { 'uk-source'?: string }> = JSON.parse(readFileSync(`${root}packages/${name}/package.json`, 'utf8')).exports ?? {};
    return Object.entries(exports)
      .filter(([, target]) => target['uk-source'] !== undefined)
      .map(([sub, target]) => ({
        find: new RegExp(`^@uk/${name}${sub === '.' ? '' : sub.slice(1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
        replacement: `${root}packages/${name}/${target['uk-source']?.replace(/^\.\//, '')}`,
      }));
  });

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
