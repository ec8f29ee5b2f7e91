import { FdtError } from '../error.js';
import { be32, be64 } from '../format/endian.js';
import { decodeUtf8 } from '../text/utf8.js';

/**
 * One property: a name and its raw value. The accessors read the value the way the
 * specification's property types are encoded (big-endian cells, NUL-terminated strings)
 * and throw FdtError FDT_BAD_PROPERTY when the value is not of that shape.
 */
export class FdtProperty {
  readonly name: string;
  /** The raw value. After parseFdt, a view into the Fdt's own copy of the blob. */
  readonly value: Uint8Array;

  constructor(name: string, value: Uint8Array) {
    this.name = name;
    this.value = value;
  }

  /** Length of the value in bytes. */
  get length(): number {
    return this.value.length;
  }

  isEmpty(): boolean {
    return this.value.length === 0;
  }

  /** The index-th 32-bit cell. */
  u32(index = 0): number {
    const off = this.#cellOffset(index, 4);
    return be32(this.value, off);
  }

  /** The index-th 64-bit value (two cells). */
  u64(index = 0): bigint {
    const off = this.#cellOffset(index, 8);
    return be64(this.value, off);
  }

  /** All 32-bit cells. */
  cells(): number[] {
    const v = this.value;
    if (v.length % 4 !== 0) {
      throw new FdtError('FDT_BAD_PROPERTY', `${this.name} is not a list of cells`);
    }
    const out = new Array<number>(v.length >>> 2);
    for (let i = 0; i < out.length; i++) out[i] = be32(v, i * 4);
    return out;
  }

  /** The value as a string (the first string, when it holds a list). */
  string(): string {
    const v = this.#checkStrings();
    let end = 0;
    while (v[end] !== 0) end++;
    return decodeUtf8(v, 0, end);
  }

  /** The NUL-separated string list; [] for an empty value. */
  strings(): string[] {
    if (this.value.length === 0) return [];
    const v = this.#checkStrings();
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < v.length; i++) {
      if (v[i] === 0) {
        out.push(decodeUtf8(v, start, i));
        start = i + 1;
      }
    }
    return out;
  }

  #checkStrings(): Uint8Array {
    const v = this.value;
    if (v.length === 0 || v[v.length - 1] !== 0) {
      throw new FdtError(
        'FDT_BAD_PROPERTY',
        `${this.name} is not a string`,
      );
    }
    return v;
  }

  #cellOffset(index: number, width: number): number {
    if (!Number.isInteger(index) || index < 0) {
      throw new FdtError('FDT_BAD_PROPERTY', `${this.name}: no cell ${index}`);
    }
    const off = index * width;
    if (off + width > this.value.length) {
      throw new FdtError(
        'FDT_BAD_PROPERTY',
        `${this.name}: no cell ${index}`,
      );
    }
    return off;
  }
}
