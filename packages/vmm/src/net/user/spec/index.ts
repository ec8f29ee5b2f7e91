// What describes a user-mode network (options, addressing, host name resolution) without the
// engine that runs one.
export { type UserNetOptions, type UserNetLimits, type HostForward, DEFAULT_USER_LIMITS, USER_KEYS, USER_USAGE, parseUserItems, parseHostForward } from './user-options.js';
export { type Addressing, addressing, parseNetwork, UserNetError } from './addressing.js';
export { type HostResolver, systemResolver, staticResolver } from '../dns/host-resolver.js';
