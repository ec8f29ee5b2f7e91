import { KernelError } from '@uk/hal';
import { formatPa } from '../address/virtual-address.js';

/** Physical memory that page tables live in: a byte view whose index 0 is address `base`. */
export interface PhysicalMemory {
  readonly bytes: Uint8Array;
  readonly base: number;
}

/**
 * Page-table entries in RAM, as the hardware reads them: 64-bit little-endian words at
 * physical addresses, read and written as two 32-bit halves. A Uint32Array does the work
 * when the host is little-endian and RAM is 4-byte aligned (always, in practice); a
 * DataView otherwise.
 */
export class TableMemory {
  private readonly words: Uint32Array | undefined;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  readonly base: number;
  readonly end: number;

  constructor(mem: PhysicalMemory) {
    this.bytes = mem.bytes;
    this.view = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength);
    // Entries are little-endian in every format; typed arrays use the host's byte order.
    const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    this.words =
      littleEndian && mem.bytes.byteOffset % 4 === 0 ? new Uint32Array(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength >>> 2) : undefined;
    this.base = mem.base;
    this.end = mem.base + mem.bytes.byteLength;
  }

  lo(pa: number): number {
    const w = this.words;
    return w !== undefined ? w[(pa - this.base) / 4] : this.view.getUint32(pa - this.base, true);
  }

  hi(pa: number): number {
    const w = this.words;
    return w !== undefined ? w[(pa - this.base) / 4 + 1] : this.view.getUint32(pa - this.base + 4, true);
  }

  write(pa: number, lo: number, hi: number): void {
    // High word first, low word (with the valid bit) last: a walker never sees a valid entry
    // with a stale high half.
    const w = this.words;
    if (w !== undefined) {
      const i = (pa - this.base) / 4;
      w[i + 1] = hi;
      w[i] = lo;
    } else {
      this.view.setUint32(pa - this.base + 4, hi, true);
      this.view.setUint32(pa - this.base, lo, true);
    }
  }

  /**
   * Writes up to `count` consecutive entries from `pa` on: the first is `lo`/`hi`, each next
   * one has `step` added to its low word. Stops before the low word would pass 32 bits and
   * returns how many it wrote.
   */
  writeRun(pa: number, count: number, lo: number, hi: number, step: number): number {
    const n = Math.min(count, Math.floor((0xffff_ffff - lo) / step) + 1);
    const w = this.words;
    if (w !== undefined) {
      let i = (pa - this.base) / 4;
      for (let k = 0; k < n; k++, i += 2, lo += step) {
        w[i + 1] = hi;
        w[i] = lo;
      }
    } else {
      for (let k = 0; k < n; k++, pa += 8, lo += step) this.write(pa, lo, hi);
    }
    return n;
  }

  clear(pa: number): void {
    this.write(pa, 0, 0);
  }

  /** Zeroes a fresh 4 KiB table, after checking that the allocator gave a page inside this memory. */
  zeroTable(pa: number): void {
    if (!Number.isInteger(pa) || pa < this.base || pa + 4096 > this.end || pa % 4096 !== 0) {
      throw new KernelError(
        'EINVAL',
        `the frame allocator returned ${formatPa(pa)} for a page table, which is not a 4 KiB-aligned page of the RAM at ${formatPa(this.base)}–${formatPa(this.end)}`,
      );
    }
    const off = pa - this.base;
    this.bytes.fill(0, off, off + 4096);
  }
}
