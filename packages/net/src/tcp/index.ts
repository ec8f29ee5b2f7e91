/**
 * TCP for @uk/net — opt-in, so that an app without TCP carries no TCP code.
 *
 * The contract with the stack (`tcpip({ tcp: tcp() })`):
 *
 *   const t = tcp(opts?)          // a TcpModule
 *   t.attach({
 *     ip,                         // IpLayer: allocBuf, output, sourceFor, mtuFor, txChecksumOffload, isLocal
 *     registerTransport,          // (t: Transport) => void — TCP registers itself for protocol 6
 *     now,                        // () => number — ms of the owner's clock (fractions allowed)
 *     wake?,                      // (deadline: number) => void — optional, see below
 *     timers?,                    // used for wake when there is none: timers.at(deadline, noop)
 *     waiter?,                    // Waiter from socket/waiter.ts (scheduler-aware blocking); optional
 *   }, sockets?)                  // sockets?.waiter is preferred (tcpip() passes its Sockets)
 *                                 // returns the module itself (what net.extension('tcp') gives)
 *
 * NetStack satisfies the first argument as it is, so `tcpip({ tcp: tcp() })` and
 * `attachExtension(tcp(), stack, sockets)` both work.
 *
 * - The stack calls the Transport's `input(info, buf)` for every TCP datagram and `poll(now)`
 *   at (or after) the deadline the last `poll` returned.
 * - TCP's deadlines also move earlier outside `poll`: a segment arrives and an ACK is due, the
 *   app writes and a retransmission timer starts. When that happens TCP calls `wake(deadline)`;
 *   the stack should then call `poll` once the current batch of input (or the current API
 *   call) is done, and no later than `deadline`. A `wake(now)` means "as soon as you can":
 *   that is how the ACKs for a batch of received segments are coalesced into one. Without
 *   `wake`, TCP sends such ACKs at once and the stack must poll often enough on its own.
 * - Checksums: when `ip.txChecksumOffload(dst)` is true TCP leaves the pseudo-header sum
 *   (folded, not complemented) in the checksum field, as a device that completes it expects
 *   (virtio-net NEEDS_CSUM); `info.checksumVerified` skips verification on input.
 * - Buffers: data is copied once into buffers from `ip.allocBuf(dst, 60 + mss)`; each
 *   transmission hands `ip.output` a NetBuf view of such a buffer (header written in its
 *   headroom), and TCP learns from that view's `release()` that the device is done with it.
 *
 * After attach, the same object offers the promise sockets (`listen`, `connect`) and the raw
 * lwIP-style API (`raw`: `TcpTransport.connect/listen`, `TcpConnection` with `TcpHandlers`).
 */
export { tcp, type TcpModule, type TcpAttachTarget, type TcpConnectOptions, type TcpListenOptions } from './module.js';
export { TcpTransport, type TcpStats, type TcpStackHooks, type ConnectOptions, type ListenOptions } from './transport.js';
export { TcpConnection, type TcpHandlers, type TcpConnectionStats } from './connection.js';
export { TcpListener, type TcpListenerHandlers } from './listener.js';
export { TcpSocket, type ReadOptions, type SocketEnv } from './socket/stream.js';
export { TcpServer } from './socket/server.js';
export { TcpState, tcpStateName } from './state.js';
export { type TcpConfig, type TcpConfigInput, type TcpSocketOptions, DEFAULT_SOCKET_OPTIONS } from './config.js';
export type { CongestionAlgorithm, CongestionController, CongestionView } from './congestion/control.js';
export { newReno } from './congestion/new-reno.js';
export { cubic } from './congestion/cubic.js';
