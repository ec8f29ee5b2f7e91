import type dgram from 'node:dgram';
import type { FramePort } from '../frame-port.js';

// Loaded on first use, not imported: a machine that never needs it never pays for loading it.
const dgramModule = () => process.getBuiltinModule('node:dgram');
const dnsModule = () => process.getBuiltinModule('node:dns');
const netModule = () => process.getBuiltinModule('node:net');

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface UdpPortOptions {
  /** Where frames go (QEMU's `udp=`). */
  readonly remote: HostPort;
  /** Where this end listens (QEMU's `localaddr=`); default: any address, a port the system picks. */
  readonly local?: HostPort;
  /** Where trouble is reported once (default: the host's stderr). */
  readonly log?: (line: string) => void;
}

export interface UdpPortStats {
  sent: number;
  received: number;
  /** Datagrams from anywhere but the remote end, ignored. */
  strangers: number;
  sendErrors: number;
}

/** Frames waiting while the remote host name resolves. */
const MAX_QUEUED = 256;

/**
 * A link over UDP: one Ethernet frame per datagram, nothing else in it — what QEMU's
 * `-netdev socket,udp=HOST:PORT,localaddr=HOST:PORT` sends and expects, and what
 * `socat UDP:HOST:PORT,bind=HOST:PORT TUN:…,tun-type=tap,iff-no-pi` relays to a TAP device.
 * Only datagrams from the remote end are taken.
 */
export class UdpPort implements FramePort {
  readonly label: string;
  readonly stats: UdpPortStats = { sent: 0, received: 0, strangers: 0, sendErrors: 0 };
  /** Resolves once the socket is bound; rejects with the reason it cannot be. */
  readonly ready: Promise<void>;
  private readonly socket: dgram.Socket;
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private remoteAddress: string | undefined;
  private readonly remotePort: number;
  private readonly queued: Buffer[] = [];
  private readonly log: (line: string) => void;
  private warned = false;
  private closed = false;

  constructor(readonly options: UdpPortOptions) {
    const { remote, local } = options;
    this.label = `udp ${showHostPort(remote)}${local ? ` from ${showHostPort(local)}` : ''}`;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.remotePort = remote.port;
    const family = familyOf(local?.host) ?? familyOf(remote.host) ?? 4;
    this.socket = dgramModule().createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.remotePort || (this.remoteAddress !== undefined && rinfo.address !== this.remoteAddress)) {
        this.stats.strangers++;
        return;
      }
      this.stats.received++;
      this.receiver?.(msg);
    });
    const bound = new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(new Error(`cannot listen on UDP ${local ? showHostPort(local) : 'an ephemeral port'}: ${e.message}`));
      this.socket.once('error', onError);
      this.socket.bind({ port: local?.port ?? 0, address: local?.host || undefined, exclusive: true }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (e) => this.trouble(`UDP socket error: ${e.message}`));
        resolve();
      });
    });
    const resolved = netModule().isIP(remote.host) !== 0 ? Promise.resolve(remote.host) : lookup(remote.host, family);
    this.ready = Promise.all([bound, resolved]).then(([, address]) => {
      this.remoteAddress = address;
      for (const b of this.queued.splice(0)) this.transmit(b);
    });
    // A failure is reported by whoever awaits `ready`; until then frames are dropped quietly.
    this.ready.catch(() => {});
    if (netModule().isIP(remote.host) !== 0) this.remoteAddress = remote.host;
  }

  /** The local address and port the socket is bound to (after `ready`). */
  get localAddress(): HostPort {
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    // The frame is lent: the socket may keep the datagram past this call.
    const copy = Buffer.from(frame);
    if (this.remoteAddress === undefined) {
      if (this.queued.length < MAX_QUEUED) this.queued.push(copy);
      return;
    }
    this.transmit(copy);
  }

  private transmit(datagram: Buffer): void {
    this.stats.sent++;
    this.socket.send(datagram, this.remotePort, this.remoteAddress, (err) => {
      if (err) {
        this.stats.sendErrors++;
        this.trouble(`sending to ${showHostPort(this.options.remote)} failed: ${err.message}`);
      }
    });
  }

  setReceiver(receive: (frame: Uint8Array) => void): void {
    this.receiver = receive;
  }

  private trouble(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log(`uk: ${this.label}: ${line} (further errors are counted, not shown)`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function familyOf(host: string | undefined): 4 | 6 | undefined {
  if (host === undefined || host === '') return undefined;
  const v = netModule().isIP(host);
  return v === 4 ? 4 : v === 6 ? 6 : undefined;
}

function lookup(host: string, family: 4 | 6): Promise<string> {
  return new Promise((resolve, reject) => {
    dnsModule().lookup(host, { family }, (err, address) => {
      if (err) reject(new Error(`cannot resolve ${host}: ${err.message}`));
      else resolve(address);
    });
  });
}

export function showHostPort(hp: HostPort): string {
  return netModule().isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
