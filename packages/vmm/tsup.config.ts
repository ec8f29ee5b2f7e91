import { packageBuild } from '../../tsup.shared.js';

export default packageBuild({
  // The vCPU worker is its own entry: isolated mode starts it as a Worker script.
  entry: { index: 'src/index.ts', 'vcpu-worker': 'src/vcpu/worker.ts' },
  dts: { entry: 'src/index.ts', compilerOptions: { customConditions: [] } },
  platform: 'node',
  splitting: true,
});
