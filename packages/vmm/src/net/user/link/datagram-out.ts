import { icmp, type Ipv4Address, IpProtocol, type NetStack, tcpWire, udp } from '@uk/net';

/**
 * Datagrams the gateway sends in the name of other hosts — a UDP reply from a server on the
 * host, the DNS forwarder's answer, a RST for a connection the host refused — through its
 * stack's IP layer, which routes, resolves the guest's MAC and fragments as needed.
 */

/** A UDP datagram from `src`:`srcPort` to the guest; false when no buffer or route. */
export function sendUdpFrom(stack: NetStack, src: Ipv4Address, srcPort: number, dst: Ipv4Address, dstPort: number, data: Uint8Array): boolean {
  if (data.length > 65_507) return false;
  const buf = stack.ip.allocBuf(dst, udp.UDP_HEADER_LEN + data.length);
  if (buf === null) return false;
  buf.store.set(data, buf.offset + udp.UDP_HEADER_LEN);
  udp.emitUdp(buf.store, buf.offset, srcPort, dstPort, data.length, src, dst, true);
  const r = stack.ip.output(buf, src, dst, IpProtocol.UDP);
  return r === 'sent' || r === 'queued-for-arp';
}

/** An echo reply from `src` carrying the request's id, sequence and data. */
export function sendEchoReply(stack: NetStack, src: Ipv4Address, dst: Ipv4Address, request: Uint8Array): void {
  if (request.length < icmp.ICMP_HEADER_LEN) return;
  const buf = stack.ip.allocBuf(dst, request.length);
  if (buf === null) return;
  buf.store.set(request, buf.offset);
  icmp.emitIcmpEcho(buf.store, buf.offset, request.length, icmp.IcmpType.EchoReply, icmp.icmpEchoId(request, 0), icmp.icmpEchoSeq(request, 0));
  stack.ip.output(buf, src, dst, IpProtocol.ICMP);
}

/**
 * The RST that refuses the guest's SYN (RFC 9293 §3.10.7.1: SEQ 0, ACK = its SEQ + 1), from
 * the address and port it wanted.
 */
export function sendRefusal(stack: NetStack, from: Ipv4Address, fromPort: number, to: Ipv4Address, toPort: number, synSeq: number): void {
  const n = tcpWire.TCP_HEADER_LEN;
  const buf = stack.ip.allocBuf(to, n);
  if (buf === null) return;
  tcpWire.emitTcpHeader(buf.store, buf.offset, fromPort, toPort, 0, (synSeq + 1) >>> 0, n, tcpWire.TcpFlag.RST | tcpWire.TcpFlag.ACK, 0);
  tcpWire.finishTcpChecksum(buf.store, buf.offset, n, from, to, false);
  stack.ip.output(buf, from, to, IpProtocol.TCP);
}
