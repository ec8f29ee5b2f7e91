import { packageBuild } from '../../tsup.shared.js';

export default packageBuild({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  dts: { entry: 'src/index.ts', compilerOptions: { customConditions: [] } },
  platform: 'node',
});
