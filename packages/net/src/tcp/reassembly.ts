import type { NetBuf } from '@uk/netdev';
import { seqGt, seqLeq, seqLt } from './seq.js';

/** One out-of-order piece: `len` data bytes at `seq` (the buffer's window), maybe followed by FIN. */
interface Piece {
  seq: number;
  len: number;
  buf: NetBuf | null;
  fin: boolean;
}

/**
 * Segments that arrived ahead of RCV.NXT, kept in sequence order without overlap (overlaps
 * are trimmed on arrival, buffers are kept, not copied), and the SACK blocks (RFC 2018) that
 * describe them, the most recently changed first.
 */
export class Reassembly {
  private pieces: Piece[] = [];
  /** Data bytes held. */
  bytes = 0;
  /** Left edges of blocks in the order they were last reported, newest first. */
  private recent: number[] = [];

  get count(): number {
    return this.pieces.length;
  }

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /**
   * Adds `len` bytes at `seq` (the window of `buf`, which this takes) and an optional FIN after
   * them. Returns false when nothing new was kept (a duplicate, or over `maxPieces`).
   */
  insert(seq: number, len: number, buf: NetBuf | null, fin: boolean, maxPieces: number): boolean {
    const ps = this.pieces;
    let end = (seq + len) >>> 0;
    // Where it goes: after every piece that starts at or before it (arrivals are usually last).
    let i = ps.length;
    while (i > 0 && seqGt(ps[i - 1].seq, seq)) i--;
    const prev = i > 0 ? ps[i - 1] : null;
    if (prev !== null) {
      const prevEnd = (prev.seq + prev.len) >>> 0;
      if (seqLeq(end, prevEnd) && (!fin || prev.fin || seqLt(end, prevEnd))) {
        buf?.release();
        return false;
      }
      if (seqGt(prevEnd, seq)) {
        // Keep the older bytes; drop the overlap from the front of the new piece.
        const cut = (prevEnd - seq) >>> 0;
        if (buf !== null) {
          buf.offset += cut;
          buf.length -= cut;
        }
        seq = prevEnd;
        len -= cut;
      }
    }
    // Pieces the new one covers entirely go; one it overlaps at its end trims the new one.
    while (i < ps.length) {
      const nx = ps[i];
      const nxEnd = (nx.seq + nx.len) >>> 0;
      if (seqLeq(nx.seq, seq) || seqLt(nx.seq, end) || (nx.seq === end && nx.len === 0 && nx.fin)) {
        if (seqLeq(nxEnd, end) && seqGeq(nx.seq, seq)) {
          this.bytes -= nx.len;
          nx.buf?.release();
          ps.splice(i, 1);
          if (nx.fin) fin = true;
          continue;
        }
        if (seqLt(nx.seq, end)) {
          const keep = (nx.seq - seq) >>> 0;
          if (buf !== null) buf.length = keep;
          len = keep;
          end = nx.seq;
          fin = false;
        }
      }
      break;
    }
    if (len <= 0 && !fin) {
      buf?.release();
      return false;
    }
    if (ps.length >= maxPieces) {
      buf?.release();
      return false;
    }
    if (len <= 0 && buf !== null) {
      buf.release();
      buf = null;
    }
    ps.splice(i, 0, { seq, len: Math.max(0, len), buf, fin });
    this.bytes += Math.max(0, len);
    this.touch(seq);
    return true;
  }

  /** The piece that starts at `rcvNxt`, removed; pieces wholly before it are dropped, one that straddles it is trimmed. */
  take(rcvNxt: number): Piece | null {
    const ps = this.pieces;
    while (ps.length > 0) {
      const p = ps[0];
      const end = (p.seq + p.len) >>> 0;
      if (seqGt(p.seq, rcvNxt)) return null;
      ps.shift();
      this.bytes -= p.len;
      if (seqLeq(end, rcvNxt) && !(end === rcvNxt && p.fin)) {
        p.buf?.release();
        continue;
      }
      if (seqLt(p.seq, rcvNxt)) {
        const cut = (rcvNxt - p.seq) >>> 0;
        if (p.buf !== null) {
          p.buf.offset += cut;
          p.buf.length -= cut;
        }
        p.seq = rcvNxt;
        p.len -= cut;
      }
      return p;
    }
    return null;
  }

  private touch(seq: number): void {
    const r = this.recent;
    const k = r.indexOf(seq);
    if (k >= 0) r.splice(k, 1);
    r.unshift(seq);
    if (r.length > 8) r.length = 8;
  }

  /**
   * Writes up to `max` SACK blocks as [left, right) pairs into `out` (from index 2·first):
   * the block holding the latest arrival first, then the others that were reported most
   * recently (RFC 2018 §4). Returns how many.
   */
  sackBlocks(out: Float64Array, first: number, max: number): number {
    const ps = this.pieces;
    if (ps.length === 0 || max <= 0) return 0;
    // Contiguous runs of pieces.
    const lefts: number[] = [];
    const rights: number[] = [];
    for (const p of ps) {
      if (p.len === 0) continue;
      const end = (p.seq + p.len) >>> 0;
      const last = rights.length - 1;
      if (last >= 0 && rights[last] === p.seq) rights[last] = end;
      else {
        lefts.push(p.seq);
        rights.push(end);
      }
    }
    if (lefts.length === 0) return 0;
    let n = 0;
    const used: boolean[] = new Array(lefts.length).fill(false);
    const put = (j: number): void => {
      used[j] = true;
      out[2 * (first + n)] = lefts[j];
      out[2 * (first + n) + 1] = rights[j];
      n++;
    };
    for (const s of this.recent) {
      if (n >= max) break;
      for (let j = 0; j < lefts.length; j++) {
        if (!used[j] && seqLeq(lefts[j], s) && seqLt(s, rights[j])) {
          put(j);
          break;
        }
      }
    }
    for (let j = lefts.length - 1; j >= 0 && n < max; j--) if (!used[j]) put(j);
    return n;
  }

  /** Releases every buffer held. */
  clear(): void {
    for (const p of this.pieces) p.buf?.release();
    this.pieces = [];
    this.bytes = 0;
    this.recent = [];
  }
}

function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
