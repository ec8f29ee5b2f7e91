import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source, not its build, so that one root run
// covers the whole tree without a build step in between.
const root = fileURLToPath(new URL('.', import.meta.url));
const alias = readdirSync(`${root}packages`)
  .filter((name) => existsSync(`${root}packages/${name}/src/index.ts`))
  .map((name) => ({ find: new RegExp(`^@uk/${name}$`), replacement: `${root}packages/${name}/src/index.ts` }));

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
