import { packageBuild } from '../../tsup.shared.js';

// Two entry points: the kernel side (bundled into images) and the device model (loaded by
// `uk run --device`, on the host). Declarations are built with Node's types, which the device
// model needs; `pnpm typecheck` checks the kernel side without them.
export default packageBuild({
  entry: { index: 'src/index.ts', device: 'src/device/index.ts' },
  platform: 'node',
  dts: { compilerOptions: { customConditions: [], types: ['node'], lib: ['ES2024'] } },
});
