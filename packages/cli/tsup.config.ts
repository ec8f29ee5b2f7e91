import { packageBuild } from '../../tsup.shared.js';

export default packageBuild({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  dts: { entry: 'src/index.ts', compilerOptions: { customConditions: [] } },
  platform: 'node',
  // The command starts faster with fewer modules to load: the kernel packages it uses
  // are bundled in; @uk/vmm stays a package (its vCPU worker is a file beside it).
  noExternal: [/^@uk\/(?!vmm)/],
});
