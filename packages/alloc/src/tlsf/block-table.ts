/**
 * The TLSF heap's block headers, kept out of the memory they describe: one row per block in
 * parallel typed arrays (a block id is a row number), grown by doubling. Guest RAM holds
 * only the application's bytes, so a device scribbling over a buffer cannot corrupt the heap.
 */
export const BLOCK_UNUSED = 0;
export const BLOCK_FREE = 1;
export const BLOCK_USED = 2;

export class BlockTable {
  addr: Float64Array;
  size: Float64Array;
  /** Physically previous / next block in the same pool, -1 at the pool's edges. */
  prevPhys: Int32Array;
  nextPhys: Int32Array;
  /** Neighbours in the free list of the block's size class (free blocks only). */
  prevFree: Int32Array;
  nextFree: Int32Array;
  state: Uint8Array;
  private spare: Int32Array;
  private spareTop = 0;
  private highWater = 0;

  constructor(capacity = 64) {
    this.addr = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.prevPhys = new Int32Array(capacity);
    this.nextPhys = new Int32Array(capacity);
    this.prevFree = new Int32Array(capacity);
    this.nextFree = new Int32Array(capacity);
    this.state = new Uint8Array(capacity);
    this.spare = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.addr.length;
  }

  /** A fresh row. The arrays may be replaced: reload them after calling this. */
  acquire(): number {
    if (this.spareTop > 0) return this.spare[--this.spareTop];
    if (this.highWater === this.addr.length) this.grow(this.addr.length * 2);
    return this.highWater++;
  }

  release(id: number): void {
    this.state[id] = BLOCK_UNUSED;
    this.spare[this.spareTop++] = id;
  }

  private grow(capacity: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.addr = f64(this.addr);
    this.size = f64(this.size);
    this.prevPhys = i32(this.prevPhys);
    this.nextPhys = i32(this.nextPhys);
    this.prevFree = i32(this.prevFree);
    this.nextFree = i32(this.nextFree);
    this.spare = i32(this.spare);
    const state = new Uint8Array(capacity);
    state.set(this.state);
    this.state = state;
  }
}
