/**
 * Guest RAM as a device model reaches it by DMA. Every guest-supplied address goes through
 * `offset`, which answers -1 for anything not wholly inside RAM; nothing else here turns a
 * guest number into an index.
 */
export class GuestMemory {
  readonly base: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** 16-bit words of RAM (index = byte offset >> 1), for ring indexes read and written with Atomics. */
  readonly u16: Uint16Array;

  constructor(ram: { base: number; size: number; bytes: Uint8Array }) {
    this.base = ram.base;
    this.size = ram.size;
    this.bytes = ram.bytes;
    if (ram.bytes.byteOffset % 2 !== 0 || ram.bytes.byteLength < ram.size) throw new RangeError('guest RAM must be an even-aligned view of at least its size');
    this.view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.size);
    this.u16 = new Uint16Array(ram.bytes.buffer, ram.bytes.byteOffset, ram.size >> 1);
  }

  /** Byte offset of [pa, pa + len) in RAM, or -1 when any byte of it lies outside. */
  offset(pa: number, len: number): number {
    const off = pa - this.base;
    return off >= 0 && len >= 0 && off + len <= this.size ? off : -1;
  }
}
