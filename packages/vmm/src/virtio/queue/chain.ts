/**
 * One descriptor chain as the device sees it after validation: buffers as byte offsets into
 * RAM (already checked to lie inside it), readable ones first. The object is reused for
 * every chain a queue pops, so that popping allocates nothing.
 */
export class DescriptorChain {
  head = 0;
  /** Buffers in the chain (zero-length descriptors are dropped). */
  count = 0;
  /** How many of the buffers, from the start, the device reads; the rest it writes. */
  readable = 0;
  readableBytes = 0;
  writableBytes = 0;
  readonly offset: Float64Array;
  readonly length: Uint32Array;

  constructor(readonly capacity: number) {
    this.offset = new Float64Array(capacity);
    this.length = new Uint32Array(capacity);
  }

  clear(head: number): void {
    this.head = head;
    this.count = 0;
    this.readable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /** Copies up to `dst.length` readable bytes starting `skip` bytes into the readable part. */
  gather(ram: Uint8Array, skip: number, dst: Uint8Array): number {
    let copied = 0;
    let pos = 0;
    for (let i = 0; i < this.readable && copied < dst.length; i++) {
      const len = this.length[i];
      if (pos + len > skip) {
        const from = Math.max(0, skip - pos);
        const n = Math.min(len - from, dst.length - copied);
        const off = this.offset[i] + from;
        dst.set(ram.subarray(off, off + n), copied);
        copied += n;
      }
      pos += len;
    }
    return copied;
  }

  /**
   * Views of RAM for the part of the chain of kind `writable` from byte `skip` for `len`
   * bytes; what scatter-gather I/O (readv / writev) takes.
   */
  views(ram: Uint8Array, writable: boolean, skip: number, len: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const first = writable ? this.readable : 0;
    const end = writable ? this.count : this.readable;
    let pos = 0;
    let left = len;
    for (let i = first; i < end && left > 0; i++) {
      const l = this.length[i];
      if (pos + l > skip) {
        const from = Math.max(0, skip - pos);
        const n = Math.min(l - from, left);
        const off = this.offset[i] + from;
        out.push(ram.subarray(off, off + n));
        left -= n;
      }
      pos += l;
    }
    return out;
  }

  /** RAM offset of the writable byte `at` bytes into the writable part, or -1. */
  writableOffset(at: number): number {
    let pos = 0;
    for (let i = this.readable; i < this.count; i++) {
      const l = this.length[i];
      if (at < pos + l) return this.offset[i] + (at - pos);
      pos += l;
    }
    return -1;
  }
}
