import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

export default [
  // Three entries over shared chunks: the machine; the user-mode network's engine, which only a
  // machine with a `--net user` NIC loads; and prestart, which a CLI imports first to start a
  // vCPU thread while it loads the rest.
  packageBuild({
    platform: 'node',
    clean: false,
    entry: { index: 'src/index.ts', 'user-net': 'src/net/user/index.ts', prestart: 'src/vcpu/spare.ts' },
  }),
  // The vCPU worker: one self-contained CommonJS file, so that starting a Worker loads one
  // module and never brings up the ESM loader (its internal modules cost a Worker's start).
  defineConfig({
    entry: { 'vcpu-worker': 'src/vcpu/worker.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    platform: 'node',
    target: 'es2022',
    sourcemap: true,
    clean: false,
    noExternal: [/./],
    splitting: false,
  }),
];
