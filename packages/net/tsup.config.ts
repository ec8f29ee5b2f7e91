import { packageBuild } from '../../tsup.shared.js';

// `@uk/net/address` is the IPv4 address helpers alone: a host tool that parses addresses
// (the VMM's --net options) loads them without the stack.
export default packageBuild({ entry: { index: 'src/index.ts', address: 'src/ip/address.ts' } });
