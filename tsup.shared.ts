import { defineConfig, type Options } from 'tsup';

/**
 * The one build every package shares: ESM + declarations from src/index.ts. Declarations are
 * built against the other packages' builds, not their sources (the uk-source condition is
 * for bundling the image and for the tests).
 */
export function packageBuild(extra: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: { compilerOptions: { customConditions: [] } },
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
    ...extra,
  });
}
