import { KernelError } from '@uk/hal';
import type { NetBuf } from '@uk/netdev';
import { formatIpv4, IPV4_BROADCAST, type Ipv4Address } from '../ip/address.js';
import type { Ipv4Layer } from '../ip/layer.js';
import type { CoreTimer, TimerQueue } from '../stack/timers.js';
import { type IpDatagramInfo, IpProtocol, type Transport } from '../stack/transport.js';
import { checkIcmp, emitIcmpEcho, ICMP_HEADER_LEN, IcmpType, icmpCode, icmpEchoId, icmpEchoSeq, icmpType } from '../wire/icmp.js';
import { ipv4Dst, ipv4HeaderLength, ipv4Protocol, ipv4Src } from '../wire/ipv4.js';

export interface PingOptions {
  /** Bytes of data after the ICMP header (default 56, as ping(8)). */
  readonly size?: number;
  /** Default 1000 ms. */
  readonly timeoutMs?: number;
  readonly ttl?: number;
}

interface PendingPing {
  readonly sent: number;
  readonly timer: CoreTimer;
  resolve(rtt: number): void;
  reject(e: unknown): void;
}

/** Outstanding pings at once: bounds memory under a flood of calls. */
const MAX_PINGS = 256;

/**
 * ICMP (RFC 792): answers echo requests, matches echo replies to pings, and hands error
 * messages about datagrams we sent to the transport that sent them.
 */
export class IcmpLayer implements Transport {
  readonly protocol = IpProtocol.ICMP;
  readonly #ip: Ipv4Layer;
  readonly #timers: TimerQueue;
  readonly #now: () => number;
  readonly #pings = new Map<number, PendingPing>();
  readonly #id: number;
  #seq = 0;
  /** Echo requests answered, replies matched, errors passed on. */
  readonly stats = { echoRequests: 0, echoReplies: 0, errors: 0, dropped: 0 };

  constructor(ip: Ipv4Layer, timers: TimerQueue, now: () => number, random: () => number) {
    this.#ip = ip;
    this.#timers = timers;
    this.#now = now;
    this.#id = Math.floor(random() * 0x10000) & 0xffff;
  }

  input(info: IpDatagramInfo, buf: NetBuf): void {
    try {
      this.#input(info, buf);
    } finally {
      buf.release();
    }
  }

  #input(info: IpDatagramInfo, buf: NetBuf): void {
    const b = buf.store;
    const off = buf.offset;
    if (!checkIcmp(b, off, buf.length)) {
      this.stats.dropped++;
      return;
    }
    const type = icmpType(b, off);
    switch (type) {
      case IcmpType.EchoRequest: {
        // Not to broadcasts (RFC 1122 §3.2.2.6 allows silence; it avoids smurf amplification).
        if (info.dst === IPV4_BROADCAST || !this.#ip.isLocal(info.dst) || this.#ip.interfaces.some((i) => i.configured && i.broadcast === info.dst)) return;
        this.stats.echoRequests++;
        const out = this.#ip.allocBuf(info.src, buf.length);
        if (out === null) return;
        out.store.set(b.subarray(off, off + buf.length), out.offset);
        emitIcmpEcho(out.store, out.offset, buf.length, IcmpType.EchoReply, icmpEchoId(b, off), icmpEchoSeq(b, off));
        this.#ip.output(out, info.dst, info.src, IpProtocol.ICMP);
        return;
      }
      case IcmpType.EchoReply: {
        if (icmpEchoId(b, off) !== this.#id) return;
        const seq = icmpEchoSeq(b, off);
        const p = this.#pings.get(seq);
        if (p === undefined) return;
        this.#pings.delete(seq);
        p.timer.cancel();
        this.stats.echoReplies++;
        p.resolve(this.#now() - p.sent);
        return;
      }
      case IcmpType.DestinationUnreachable:
      case IcmpType.TimeExceeded:
      case IcmpType.ParameterProblem: {
        const q = off + ICMP_HEADER_LEN;
        const qlen = buf.length - ICMP_HEADER_LEN;
        // The quoted header's checksum may be altered by NATs; require only a sane shape.
        if (qlen < 28 || b[q] >> 4 !== 4) return;
        const hl = ipv4HeaderLength(b, q);
        if (hl < 20 || hl + 8 > qlen) return;
        const t = this.#ip.transports.get(ipv4Protocol(b, q));
        if (t?.icmpError === undefined) return;
        this.stats.errors++;
        t.icmpError(type, icmpCode(b, off), ipv4Src(b, q), ipv4Dst(b, q), b.slice(q + hl, q + hl + 8));
        return;
      }
    }
  }

  poll(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** Sends an echo request; resolves with the round trip in ms, rejects ETIMEDOUT or EHOSTUNREACH. */
  ping(dst: Ipv4Address, opts: PingOptions = {}): Promise<number> {
    const size = opts.size ?? 56;
    if (!Number.isInteger(size) || size < 0 || size > 65_507) return Promise.reject(new KernelError('EINVAL', `ping size ${size} must be 0..65507 bytes`));
    if (this.#pings.size >= MAX_PINGS) return Promise.reject(new KernelError('EAGAIN', `${MAX_PINGS} pings are outstanding; wait for some to finish`));
    const src = this.#ip.sourceFor(dst);
    if (src === undefined) return Promise.reject(new KernelError('ENETUNREACH', `no route to ${formatIpv4(dst)}: configure an address and a gateway`));
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    const len = ICMP_HEADER_LEN + size;
    const out = this.#ip.allocBuf(dst, len);
    if (out === null) return Promise.reject(new KernelError('EAGAIN', 'no transmit buffer free; try again'));
    for (let i = 0; i < size; i++) out.store[out.offset + ICMP_HEADER_LEN + i] = i & 255;
    emitIcmpEcho(out.store, out.offset, len, IcmpType.EchoRequest, this.#id, seq);
    const timeout = opts.timeoutMs ?? 1000;
    return new Promise<number>((resolve, reject) => {
      const timer = this.#timers.after(timeout, () => {
        this.#pings.delete(seq);
        reject(new KernelError('ETIMEDOUT', `no echo reply from ${formatIpv4(dst)} within ${timeout} ms`));
      });
      this.#pings.get(seq)?.reject(new KernelError('ECANCELED', 'ping sequence number reused'));
      this.#pings.set(seq, { sent: this.#now(), timer, resolve, reject });
      const r = this.#ip.output(out, src, dst, IpProtocol.ICMP, { ttl: opts.ttl });
      if (r === 'no-route' || r === 'no-buffer' || r === 'too-big') {
        this.#pings.delete(seq);
        timer.cancel();
        reject(new KernelError(r === 'no-route' ? 'ENETUNREACH' : r === 'too-big' ? 'EMSGSIZE' : 'EAGAIN', `ping ${formatIpv4(dst)}: ${r}`));
      }
    });
  }

  get outstanding(): number {
    return this.#pings.size;
  }
}
