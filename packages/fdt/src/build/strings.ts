import { encodeUtf8Into, utf8Length } from '../text/utf8.js';
import { ByteWriter } from './writer.js';

/**
 * The strings block. Like dtc, a name that equals the tail of a name already stored
 * ('size-cells' inside '#size-cells') reuses those bytes instead of adding its own.
 */
export class StringTable {
  readonly #w = new ByteWriter(256);
  readonly #offsets = new Map<string, number>();

  offsetOf(name: string): number {
    const known = this.#offsets.get(name);
    if (known !== undefined) return known;
    const off = this.#w.length;
    const n = utf8Length(name);
    const b = this.#w.reserve(n + 1);
    encodeUtf8Into(name, b, off);
    b[off + n] = 0;
    this.#w.length += n + 1;
    // Record every tail of the new name that no earlier string already provides.
    for (let k = 0; k <= name.length; k++) {
      // A tail may not start inside a surrogate pair: it would not be the same bytes.
      if (k > 0 && (name.charCodeAt(k) & 0xfc00) === 0xdc00 && (name.charCodeAt(k - 1) & 0xfc00) === 0xd800) continue;
      const tail = name.slice(k);
      if (!this.#offsets.has(tail)) this.#offsets.set(tail, off + n - utf8Length(tail));
    }
    return off;
  }

  bytes(): Uint8Array {
    return this.#w.view();
  }
}
