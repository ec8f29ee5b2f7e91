/**
 * A packet buffer, lwIP's pbuf reduced to what a typed array allows: a window
 * [offset, offset + length) on a backing store, with headroom before it so that each layer
 * can prepend its header in place, and an optional chain for data that spans buffers.
 *
 * Ownership moves with the buffer: whoever holds it last calls `release()`, which returns a
 * driver's buffer to its ring or a pool's buffer to its pool. A received buffer can thus
 * travel from the device's DMA memory to the application without a copy.
 */
export interface NetBuf {
  /** The backing store; for DMA buffers a view over guest RAM. */
  readonly store: Uint8Array;
  /** First byte of the packet in `store`; bytes before it are headroom. */
  offset: number;
  /** Bytes of the packet in this buffer. */
  length: number;
  /** The next buffer of a chain, or null. */
  next: NetBuf | null;
  /** Physical address of store[0] when the store is guest RAM that devices can reach; -1 otherwise. */
  readonly phys: number;
  /**
   * Transmit checksum offload (Linux's CHECKSUM_PARTIAL), for a device whose
   * `offloads.txChecksum` is true. When set and >= 0, the packet's TCP or UDP checksum is
   * unfinished: the 16-bit field `csumOffset` bytes after `csumStart` (both counted from the
   * first byte of the packet) holds the folded pseudo-header sum, and the device completes it
   * over the bytes from `csumStart` to the end. Unset or -1: every checksum is complete.
   */
  csumStart?: number;
  csumOffset?: number;
  /** Gives the buffer (and the rest of its chain) back to its owner. Call exactly once. */
  release(): void;
}

/** The packet bytes of one buffer (not its chain), as a view: no copy. */
export function payload(buf: NetBuf): Uint8Array {
  return buf.store.subarray(buf.offset, buf.offset + buf.length);
}

/** Total bytes of a chain. */
export function chainLength(buf: NetBuf): number {
  let n = 0;
  for (let b: NetBuf | null = buf; b !== null; b = b.next) n += b.length;
  return n;
}

/** Grows the packet at the front by `bytes` of headroom (to write a header); false if there is not enough. */
export function prepend(buf: NetBuf, bytes: number): boolean {
  if (buf.offset < bytes) return false;
  buf.offset -= bytes;
  buf.length += bytes;
  return true;
}

/** Drops `bytes` from the front (a header that has been read). */
export function consume(buf: NetBuf, bytes: number): void {
  if (bytes > buf.length) throw new RangeError(`cannot consume ${bytes} bytes of a ${buf.length}-byte buffer`);
  buf.offset += bytes;
  buf.length -= bytes;
}

/** Copies a chain into one contiguous array (for the rare consumer that needs it). */
export function flatten(buf: NetBuf, into?: Uint8Array): Uint8Array {
  const out = into ?? new Uint8Array(chainLength(buf));
  let at = 0;
  for (let b: NetBuf | null = buf; b !== null; b = b.next) {
    out.set(b.store.subarray(b.offset, b.offset + b.length), at);
    at += b.length;
  }
  return out;
}

/** A buffer on the JavaScript heap, for tests, loopback and hosts without DMA memory. */
export function heapBuf(length: number, headroom = 64): NetBuf {
  const buf: NetBuf = {
    store: new Uint8Array(headroom + length),
    offset: headroom,
    length,
    next: null,
    phys: -1,
    release() {
      // Garbage collection takes it back.
    },
  };
  return buf;
}

/** A heap buffer holding a copy of `bytes`. */
export function bufFrom(bytes: Uint8Array, headroom = 64): NetBuf {
  const b = heapBuf(bytes.length, headroom);
  b.store.set(bytes, headroom);
  return b;
}
