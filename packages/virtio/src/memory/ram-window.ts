import { KernelError, type Ram } from '@uk/hal';

/**
 * Guest RAM as the driver touches it for DMA: the bytes, a little-endian DataView and a
 * 16-bit view for the ring indexes that both sides update (read and written with Atomics, so
 * that a device on another thread sees the ring entries before the index that publishes them).
 */
export class RamWindow {
  readonly base: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** 16-bit words of RAM; index = byte offset >> 1. */
  readonly u16: Uint16Array;

  constructor(ram: Ram) {
    this.base = ram.base;
    this.size = ram.size;
    this.bytes = ram.bytes;
    this.view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength);
    if (ram.bytes.byteOffset % 2 !== 0) throw new KernelError('EINVAL', 'RAM must start at an even byte offset of its buffer');
    this.u16 = new Uint16Array(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength >> 1);
    if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new KernelError('ENOTSUP', 'virtio rings are little-endian; this CPU is not');
  }

  /** Byte offset of physical address `pa` (checked to hold `len` bytes). */
  offset(pa: number, len: number): number {
    const off = pa - this.base;
    if (!(off >= 0 && off + len <= this.size)) {
      throw new KernelError('EFAULT', `0x${pa.toString(16)}+${len} is outside RAM (0x${this.base.toString(16)}, ${this.size} bytes)`);
    }
    return off;
  }

  /** The physical address of a buffer that is a view of RAM, or -1 for any other buffer. */
  physOf(buf: Uint8Array): number {
    if (buf.buffer !== this.bytes.buffer) return -1;
    const off = buf.byteOffset - this.bytes.byteOffset;
    return off >= 0 && off + buf.byteLength <= this.size ? this.base + off : -1;
  }

  /** A view of `len` bytes at physical address `pa`. */
  slice(pa: number, len: number): Uint8Array {
    const off = this.offset(pa, len);
    return this.bytes.subarray(off, off + len);
  }
}
