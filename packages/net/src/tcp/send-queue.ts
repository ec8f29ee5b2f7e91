import type { NetBuf } from '@uk/netdev';
import { TCP_MAX_HEADER_LEN } from '../wire/tcp.js';
import { seqLeq, seqLt } from './seq.js';

const EMPTY = new Uint8Array(0);

/**
 * One segment of the send buffer: the app's bytes, copied once into a device buffer
 * (IpLayer.allocBuf) with room in front for the TCP header, the IP header and the link's.
 * A segment is sent as it is, the header written into that room, so transmission and
 * retransmission copy nothing. Segments are pooled.
 */
export class TxSegment {
  buf: NetBuf | null = null;
  store: Uint8Array = EMPTY;
  phys = -1;
  /** Data is store[dataOff, dataOff + len). */
  dataOff = 0;
  len = 0;
  /** End of the device buffer's window: how far the data may grow while unsent. */
  limit = 0;
  /** Bytes of buffer this segment holds (for the send buffer's memory bound). */
  cap = 0;
  /** Sequence number of the first data byte. */
  seq = 0;
  /** Transmissions handed to IP that it has not released yet. */
  refs = 0;
  /** Acknowledged or dropped while IP still held a transmission: freed on the last release. */
  dead = false;
  /** The scoreboard (RFC 6675): SACKed, deemed lost, retransmitted since deemed lost. */
  sacked = false;
  lost = false;
  retrans = false;
  xmits = 0;
  next: TxSegment | null = null;
}

/**
 * The NetBuf handed to IP for one transmission of a segment: a window over the segment's
 * store (header + data). Its release() is how we learn the device is done with the bytes.
 */
export class TxView implements NetBuf {
  store: Uint8Array = EMPTY;
  offset = 0;
  length = 0;
  next: NetBuf | null = null;
  phys = -1;
  seg: TxSegment | null = null;
  owner: SendQueue | null = null;

  release(): void {
    const s = this.seg;
    const q = this.owner;
    if (s === null || q === null) return;
    this.seg = null;
    this.owner = null;
    this.next = null;
    this.store = EMPTY;
    s.refs--;
    if (s.refs === 0 && s.dead) q.freeSegment(s);
    q.views.push(this);
  }
}

/**
 * The send buffer and retransmission queue of one connection: a list of segments in sequence
 * order, [head, unsent) sent and unacknowledged, [unsent, tail] not yet sent.
 */
export class SendQueue {
  head: TxSegment | null = null;
  tail: TxSegment | null = null;
  /** First segment never sent, or null. */
  unsent: TxSegment | null = null;
  /** Data bytes queued (sent or not). */
  bytes = 0;
  /** Buffer bytes held, the memory bound's measure. */
  memory = 0;
  /** Sequence number after the last queued byte. */
  endSeq = 0;
  sackedBytes = 0;
  sackedCount = 0;
  readonly views: TxView[] = [];
  private readonly pool: TxSegment[] = [];

  constructor(private readonly alloc: (length: number) => NetBuf | null) {}

  /** Bytes of the unsent tail segment that later writes can still fill. */
  tailRoom(segSize: number): number {
    const t = this.tail;
    if (t === null || t.xmits !== 0) return 0;
    return Math.max(0, Math.min(t.limit - t.dataOff, segSize) - t.len);
  }

  /**
   * Copies up to `len` bytes of `src` from `off` into the queue, `segSize` bytes per segment,
   * holding at most `maxMemory` bytes of buffers. Returns how many bytes it took.
   */
  append(src: Uint8Array, off: number, len: number, segSize: number, maxMemory: number): number {
    let done = 0;
    const t = this.tail;
    if (t !== null && t.xmits === 0) {
      const n = Math.min(len, Math.min(t.limit - t.dataOff, segSize) - t.len);
      if (n > 0) {
        t.store.set(src.subarray(off, off + n), t.dataOff + t.len);
        t.len += n;
        done = n;
      }
    }
    while (done < len && (this.memory + segSize <= maxMemory || this.memory === 0)) {
      const buf = this.alloc(TCP_MAX_HEADER_LEN + segSize);
      if (buf === null) break;
      const dataOff = buf.offset + TCP_MAX_HEADER_LEN;
      const limit = buf.offset + buf.length;
      if (limit <= dataOff) {
        buf.release();
        break;
      }
      const s = this.pool.pop() ?? new TxSegment();
      s.buf = buf;
      s.store = buf.store;
      s.phys = buf.phys;
      s.dataOff = dataOff;
      s.limit = limit;
      s.cap = limit - buf.offset;
      const n = Math.min(len - done, limit - dataOff, segSize);
      s.store.set(src.subarray(off + done, off + done + n), dataOff);
      s.len = n;
      s.seq = (this.endSeq + done) >>> 0;
      this.link(s);
      this.memory += s.cap;
      done += n;
    }
    this.endSeq = (this.endSeq + done) >>> 0;
    this.bytes += done;
    return done;
  }

  private link(s: TxSegment): void {
    s.next = null;
    if (this.tail === null) this.head = s;
    else this.tail.next = s;
    this.tail = s;
    if (this.unsent === null) this.unsent = s;
  }

  /** Removes what `ack` acknowledges; returns the data bytes removed. */
  ackTo(ack: number): number {
    let removed = 0;
    let h = this.head;
    while (h !== null && h !== this.unsent && seqLeq((h.seq + h.len) >>> 0, ack)) {
      const next = h.next;
      removed += h.len;
      this.drop(h);
      h = next;
    }
    this.head = h;
    if (h === null) this.tail = null;
    if (h !== null && h !== this.unsent && seqLt(h.seq, ack)) {
      // A partial acknowledgment of a segment: the bytes before `ack` are no longer needed,
      // and a retransmission's header may overwrite them.
      const n = (ack - h.seq) >>> 0;
      h.seq = ack;
      h.dataOff += n;
      h.len -= n;
      if (h.sacked) this.sackedBytes -= n;
      this.bytes -= n;
      removed += n;
    }
    return removed;
  }

  private drop(s: TxSegment): void {
    this.bytes -= s.len;
    if (s.sacked) {
      this.sackedBytes -= s.len;
      this.sackedCount--;
    }
    if (s.refs > 0) s.dead = true;
    else this.freeSegment(s);
  }

  /** Returns a segment's buffer to its owner and the segment to the pool. */
  freeSegment(s: TxSegment): void {
    this.memory -= s.cap;
    s.buf?.release();
    s.buf = null;
    s.store = EMPTY;
    s.next = null;
    s.refs = 0;
    s.dead = false;
    s.sacked = false;
    s.lost = false;
    s.retrans = false;
    s.xmits = 0;
    s.len = 0;
    this.pool.push(s);
  }

  /**
   * Splits an unsent segment after `at` bytes: the rest is copied into a new segment (the
   * header room in front of it holds data). False when no buffer is free.
   */
  split(s: TxSegment, at: number): boolean {
    if (at <= 0 || at >= s.len) return true;
    const restLen = s.len - at;
    const buf = this.alloc(TCP_MAX_HEADER_LEN + restLen);
    if (buf === null) return false;
    const r = this.pool.pop() ?? new TxSegment();
    r.buf = buf;
    r.store = buf.store;
    r.phys = buf.phys;
    r.dataOff = buf.offset + TCP_MAX_HEADER_LEN;
    r.limit = Math.max(r.dataOff + restLen, buf.offset + buf.length);
    r.cap = buf.length;
    r.store.set(s.store.subarray(s.dataOff + at, s.dataOff + s.len), r.dataOff);
    r.len = restLen;
    r.seq = (s.seq + at) >>> 0;
    r.next = s.next;
    s.next = r;
    s.len = at;
    // The head part keeps its data; it may not grow into the rest's bytes any more.
    s.limit = s.dataOff + at;
    if (this.tail === s) this.tail = r;
    this.memory += r.cap;
    return true;
  }

  /** A view of `s` with `headerLen` bytes of header room in front, or null if IP still holds it. */
  view(s: TxSegment, headerLen: number): TxView | null {
    if (s.refs > 0) return null;
    const v = this.views.pop() ?? new TxView();
    v.store = s.store;
    v.offset = s.dataOff - headerLen;
    v.length = headerLen + s.len;
    v.phys = s.phys;
    v.next = null;
    v.seg = s;
    v.owner = this;
    s.refs++;
    return v;
  }

  /** Drops everything (abort, close): buffers go back as IP releases them. */
  clear(): void {
    let s = this.head;
    while (s !== null) {
      const next = s.next;
      this.drop(s);
      s = next;
    }
    this.head = this.tail = this.unsent = null;
    this.bytes = 0;
    this.sackedBytes = 0;
    this.sackedCount = 0;
  }

  /** Segments queued (for tests and bounds). */
  get count(): number {
    let n = 0;
    for (let s = this.head; s !== null; s = s.next) n++;
    return n;
  }
}
