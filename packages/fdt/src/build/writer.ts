import { putBe32 } from '../format/endian.js';

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  #buf: Uint8Array;
  length = 0;

  constructor(initial = 1024) {
    this.#buf = new Uint8Array(initial);
  }

  /** Makes room for n more bytes and returns the buffer to write them into at `length`. */
  reserve(n: number): Uint8Array {
    const need = this.length + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
    }
    return this.#buf;
  }

  u32(v: number): void {
    const b = this.reserve(4);
    putBe32(b, this.length, v);
    this.length += 4;
  }

  bytes(src: Uint8Array): void {
    const b = this.reserve(src.length);
    b.set(src, this.length);
    this.length += src.length;
  }

  /** Zero bytes up to the next multiple of 4 (the buffer is zeroed already). */
  align4(): void {
    const pad = (4 - (this.length & 3)) & 3;
    this.reserve(pad);
    this.length += pad;
  }

  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
}
