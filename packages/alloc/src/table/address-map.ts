/**
 * A hash table from physical address to a small integer (a block or chunk index), in typed
 * arrays: open addressing with linear probing and backward-shift deletion, so there are no
 * tombstones and no JS object per entry. The table is kept at most a third full, which keeps probe runs short.
 */
const EMPTY = -1;
const TWO_32 = 4294967296;

export class AddressMap {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 64) {
    let cap = 16;
    while (cap < initialCapacity * 3) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(key: number): number {
    // Fold the high half in for addresses above 4 GiB, then mix (murmur3's finaliser): the
    // low bits of addresses are all zero and allocations form arithmetic runs, which a
    // plain multiplicative hash clusters.
    let h = (key >>> 0) ^ Math.imul((key / TWO_32) >>> 0, 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** The value stored for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return -1;
    }
  }

  /** Stores `value` (≥ 0) for `key` (≥ 0), replacing any earlier value. */
  set(key: number, value: number): void {
    if ((this.count + 1) * 3 > this.keys.length) this.resize(this.keys.length * 2);
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === EMPTY) {
        keys[i] = key;
        this.values[i] = value;
        this.count++;
        return;
      }
      if (k === key) {
        this.values[i] = value;
        return;
      }
    }
  }

  /** Removes `key`; returns its value, or -1 if it was absent. */
  delete(key: number): number {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = this.slot(key);
    for (;;) {
      const k = keys[i];
      if (k === EMPTY) return -1;
      if (k === key) break;
      i = (i + 1) & mask;
    }
    const removed = values[i];
    // Backward shift: pull later members of the probe run into the hole so lookups never stop early.
    let hole = i;
    let j = (i + 1) & mask;
    while (keys[j] !== EMPTY) {
      const home = this.slot(keys[j]);
      // Move entry j into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    keys[hole] = EMPTY;
    this.count--;
    return removed;
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.count = 0;
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i], oldValues[i]);
  }
}
