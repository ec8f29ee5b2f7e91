import dgram from 'node:dgram';
import net from 'node:net';
import { type Ipv4Address, type NetStack, parseIpv4 } from '@uk/net';
import { sendUdpFrom } from '../link/datagram-out.js';
import type { Addressing } from '../spec/addressing.js';
import type { HostForward, UserNetLimits } from '../spec/user-options.js';
import type { HostTarget } from '../tcp/tcp-nat.js';

export interface UdpNatStats {
  /** Datagrams from the guest sent on by a host socket, and back. */
  toHost: number;
  toGuest: number;
  /** Datagrams the rules refused, or that could not be sent. */
  dropped: number;
  /** Flows closed for being idle or to make room. */
  expired: number;
}

interface Flow {
  readonly socket: dgram.Socket;
  readonly guest: Ipv4Address;
  readonly guestPort: number;
  lastUsed: number;
}

interface Peer {
  readonly socket: dgram.Socket;
  readonly address: string;
  readonly port: number;
  readonly guest: Ipv4Address;
  readonly guestPort: number;
  lastUsed: number;
}

/** Gateway ports that stand for host peers of forwarded UDP ports (replies come back to them). */
const PEER_PORT_FIRST = 61_000;
const PEER_PORT_COUNT = 4_000;

/**
 * UDP for the user network. Each guest port that sends out gets a host socket of its own
 * (a full-cone mapping: whoever answers that socket reaches the guest port, from the address
 * it answered from — the host's loopback appears as the gateway). Forwarded host ports
 * (`hostfwd=udp:...`) send each host peer's datagrams to the guest from a gateway port of
 * its own, so the guest's replies find the way back. Flows are bounded in number and closed
 * when idle.
 */
export class UdpNat {
  readonly stats: UdpNatStats = { toHost: 0, toGuest: 0, dropped: 0, expired: 0 };
  readonly #flows = new Map<string, Flow>();
  readonly #peers = new Map<number, Peer>();
  readonly #peerByHost = new Map<string, number>();
  readonly #servers: dgram.Socket[] = [];
  #nextPeerPort = 0;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly stack: NetStack,
    private readonly net: Addressing,
    private readonly limits: UserNetLimits,
    private readonly target: HostTarget,
  ) {
    this.#sweep = setInterval(() => this.#expire(), Math.max(1000, limits.udpIdleMs / 4));
    this.#sweep.unref();
  }

  get flows(): number {
    return this.#flows.size + this.#peers.size;
  }

  /** A datagram from the guest to `dst`:`dstPort` (not the DNS forwarder's). */
  fromGuest(src: Ipv4Address, srcPort: number, dst: Ipv4Address, dstPort: number, data: Uint8Array): void {
    if (this.#closed) return;
    const now = Date.now();
    if (dst === this.net.gateway) {
      const peer = this.#peers.get(dstPort);
      if (peer !== undefined && peer.guest === src && peer.guestPort === srcPort) {
        peer.lastUsed = now;
        this.stats.toHost++;
        peer.socket.send(data, peer.port, peer.address, () => {});
        return;
      }
    }
    const host = this.target(dst, dstPort);
    if (host === undefined || srcPort === 0) {
      this.stats.dropped++;
      return;
    }
    const key = `${src}:${srcPort}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      if (this.flows >= this.limits.udpFlows) this.#evictIdlest();
      flow = this.#open(src, srcPort);
      this.#flows.set(key, flow);
    }
    flow.lastUsed = now;
    this.stats.toHost++;
    flow.socket.send(data, dstPort, host, (err) => {
      if (err) this.stats.dropped++;
    });
  }

  #open(guest: Ipv4Address, guestPort: number): Flow {
    const socket = dgram.createSocket('udp4');
    const flow: Flow = { socket, guest, guestPort, lastUsed: Date.now() };
    socket.on('error', () => {});
    socket.on('message', (msg, rinfo) => {
      if (this.#closed) return;
      const from = this.#guestView(rinfo.address);
      if (from === undefined) return;
      flow.lastUsed = Date.now();
      this.#toGuest(from, rinfo.port, guest, guestPort, msg);
    });
    socket.bind(0);
    return flow;
  }

  #toGuest(from: Ipv4Address, fromPort: number, guest: Ipv4Address, guestPort: number, data: Uint8Array): void {
    if (sendUdpFrom(this.stack, from, fromPort, guest, guestPort, data)) this.stats.toGuest++;
    else this.stats.dropped++;
  }

  /** The address a host sender has for the guest: the gateway for the loopback. */
  #guestView(address: string): Ipv4Address | undefined {
    if (!net.isIPv4(address)) return undefined;
    const a = parseIpv4(address) as number;
    return a >>> 24 === 127 ? this.net.gateway : a;
  }

  /** Listens on a forwarded host port; resolves with the port it got. */
  forward(f: HostForward, guest: () => Ipv4Address): Promise<number> {
    const server = dgram.createSocket('udp4');
    this.#servers.push(server);
    server.on('message', (msg, rinfo) => {
      if (this.#closed) return;
      const hostKey = `${rinfo.address}:${rinfo.port}`;
      let port = this.#peerByHost.get(hostKey);
      let peer = port === undefined ? undefined : this.#peers.get(port);
      const g = f.guestAddress !== undefined ? (parseIpv4(f.guestAddress) as number) : guest();
      if (peer === undefined) {
        if (this.flows >= this.limits.udpFlows) this.#evictIdlest();
        port = this.#peerPort();
        if (port === undefined) {
          this.stats.dropped++;
          return;
        }
        peer = { socket: server, address: rinfo.address, port: rinfo.port, guest: g, guestPort: f.guestPort, lastUsed: Date.now() };
        this.#peers.set(port, peer);
        this.#peerByHost.set(hostKey, port);
      }
      peer.lastUsed = Date.now();
      this.#toGuest(this.net.gateway, port as number, peer.guest, peer.guestPort, msg);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot listen on UDP ${f.hostAddress}:${f.hostPort}: ${e.message}`)));
      server.bind({ address: f.hostAddress, port: f.hostPort, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve(server.address().port);
      });
    });
  }

  #peerPort(): number | undefined {
    for (let i = 0; i < PEER_PORT_COUNT; i++) {
      const p = PEER_PORT_FIRST + ((this.#nextPeerPort + i) % PEER_PORT_COUNT);
      if (!this.#peers.has(p)) {
        this.#nextPeerPort = (this.#nextPeerPort + i + 1) % PEER_PORT_COUNT;
        return p;
      }
    }
    return undefined;
  }

  #evictIdlest(): void {
    let idlest: { key: string | number; at: number } | undefined;
    for (const [k, f] of this.#flows) if (idlest === undefined || f.lastUsed < idlest.at) idlest = { key: k, at: f.lastUsed };
    for (const [k, p] of this.#peers) if (idlest === undefined || p.lastUsed < idlest.at) idlest = { key: k, at: p.lastUsed };
    if (idlest !== undefined) this.#drop(idlest.key);
  }

  #drop(key: string | number): void {
    this.stats.expired++;
    if (typeof key === 'number') {
      const p = this.#peers.get(key);
      this.#peers.delete(key);
      if (p !== undefined) this.#peerByHost.delete(`${p.address}:${p.port}`);
      return;
    }
    const f = this.#flows.get(key);
    this.#flows.delete(key);
    f?.socket.close();
  }

  #expire(): void {
    const old = Date.now() - this.limits.udpIdleMs;
    for (const [k, f] of this.#flows) if (f.lastUsed < old) this.#drop(k);
    for (const [k, p] of this.#peers) if (p.lastUsed < old) this.#drop(k);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const f of this.#flows.values()) f.socket.close();
    this.#flows.clear();
    this.#peers.clear();
    this.#peerByHost.clear();
    for (const s of this.#servers) {
      try {
        s.close();
      } catch {
        // Never bound: nothing to close.
      }
    }
  }
}
