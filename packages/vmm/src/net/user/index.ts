// @uk/vmm/user-net: the user-mode network (NAT, DHCP, DNS, port forwarding) and its parts.
export { UserNetPort, userNetPort, type BoundForward, type UserNetStats } from './user-port.js';
export * from './spec/index.js';
export { DnsForwarder, type DnsForwarderStats } from './dns/dns-forwarder.js';
export { DhcpServer, type DhcpServerStats } from './dhcp/dhcp-server.js';
export { TcpNat, type TcpNatStats } from './tcp/tcp-nat.js';
export { UdpNat, type UdpNatStats } from './udp/udp-nat.js';
