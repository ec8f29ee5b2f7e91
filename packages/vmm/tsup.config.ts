import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

export default [
  packageBuild({ platform: 'node', clean: false }),
  // The vCPU worker: one self-contained file, so that starting a Worker loads one module.
  defineConfig({
    entry: { 'vcpu-worker': 'src/vcpu/worker.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'es2022',
    sourcemap: true,
    clean: false,
    noExternal: [/./],
    splitting: false,
  }),
];
