export { sumBytes, finishChecksum, internetChecksum, pseudoHeaderSum } from './wire/checksum.js';
export { type Ipv4Address, IPV4_ANY, IPV4_BROADCAST, parseIpv4, formatIpv4, prefixMask, readIpv4, writeIpv4 } from './ip/address.js';
export { type IpLayer, type Transport, type IpDatagramInfo, type IpOutputResult, IpProtocol } from './stack/transport.js';
