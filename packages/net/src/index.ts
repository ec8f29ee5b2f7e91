export { sumBytes, finishChecksum, internetChecksum, pseudoHeaderSum } from './wire/checksum.js';
export { type Ipv4Address, IPV4_ANY, IPV4_BROADCAST, parseIpv4, formatIpv4, prefixMask, readIpv4, writeIpv4 } from './ip/address.js';
export { type IpLayer, type Transport, type IpDatagramInfo, type IpOutputResult, IpProtocol } from './stack/transport.js';

// Wire formats: typed views over bytes, checks and emitters, one module per protocol.
export * as ethernet from './wire/ethernet.js';
export * as arp from './wire/arp.js';
export * as ipv4 from './wire/ipv4.js';
export * as icmp from './wire/icmp.js';
export * as udp from './wire/udp.js';
export * as dhcp from './wire/dhcp.js';
export * as dns from './wire/dns.js';
export { type MacAddress, formatMac, parseMac } from './wire/ethernet.js';

// The core: driven by frames and a clock.
export { NetStack, type NetStackOptions, type InterfaceConfig, type StackMemory } from './stack/stack.js';
export { NetInterface } from './stack/interface.js';
export { TimerQueue, type CoreTimer } from './stack/timers.js';
export { seededRandom } from './stack/random.js';
export { driveWithHostTimers, type HostTimers, type StackDriver } from './stack/host-driver.js';
export { driveFromClock, type TimerService } from './stack/clock-driver.js';
export { Ipv4Layer, type IpLimits, type IpStats, type IpOutputOptions } from './ip/layer.js';
export { RouteTable, type Route } from './ip/route.js';
export { Reassembler, type ReassemblyLimits } from './ip/reassembly.js';
export { ArpCache, type ArpLimits } from './arp/cache.js';
export { IcmpLayer, type PingOptions } from './icmp/icmp.js';
export { UdpLayer, UdpPcb, type UdpDatagram, type UdpHandler, type UdpBindOptions, UDP_MAX_PAYLOAD } from './udp/udp.js';
export { DhcpClient, type DhcpState, type DhcpLease, type DhcpOptions } from './dhcp/client.js';
export { DnsClient, type DnsOptions } from './dns/client.js';

// Sockets: blocking through the scheduler when composed, plain promises otherwise.
export { Waiter, WaitQueue, Pending, cancelError, type WaitOptions, type CancelSignalLike } from './socket/waiter.js';
export { UdpSocket, type UdpSocketOptions, type UdpMessage, type UdpBufMessage } from './socket/udp-socket.js';
export { Sockets } from './socket/sockets.js';

// Composition.
export { tcpip, type TcpipOptions, NetKey, type NetService } from './component/tcpip.js';
export { type NetExtension, attachExtension } from './component/extension.js';

// TCP: opt-in (tcpip({ tcp: tcp() })); nothing below is in an image that does not use it.
export * as tcpWire from './wire/tcp.js';
export {
  tcp,
  type TcpModule,
  type TcpAttachTarget,
  type TcpConnectOptions,
  type TcpListenOptions,
  TcpTransport,
  type TcpStats,
  type TcpStackHooks,
  type ConnectOptions as TcpRawConnectOptions,
  type ListenOptions as TcpRawListenOptions,
  TcpConnection,
  type TcpHandlers,
  type TcpConnectionStats,
  TcpListener,
  type TcpListenerHandlers,
  TcpSocket,
  type ReadOptions as TcpReadOptions,
  TcpServer,
  TcpState,
  tcpStateName,
  type TcpConfig,
  type TcpConfigInput,
  type TcpSocketOptions,
  DEFAULT_SOCKET_OPTIONS as TCP_DEFAULT_SOCKET_OPTIONS,
  type CongestionAlgorithm,
  type CongestionController,
  type CongestionView,
  newReno,
  cubic,
} from './tcp/index.js';
