export { UserNetPort, userNetPort, type BoundForward, type UserNetStats } from './user-port.js';
export { type UserNetOptions, type UserNetLimits, type HostForward, DEFAULT_USER_LIMITS, USER_KEYS, USER_USAGE, parseUserItems, parseHostForward } from './spec/user-options.js';
export { type Addressing, addressing, parseNetwork, UserNetError } from './spec/addressing.js';
export { type HostResolver, systemResolver, staticResolver } from './dns/host-resolver.js';
export { DnsForwarder, type DnsForwarderStats } from './dns/dns-forwarder.js';
export { DhcpServer, type DhcpServerStats } from './dhcp/dhcp-server.js';
export { TcpNat, type TcpNatStats } from './tcp/tcp-nat.js';
export { UdpNat, type UdpNatStats } from './udp/udp-nat.js';
