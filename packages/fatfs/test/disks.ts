import type { BlockDevice } from '@uk/blkdev';
import { KernelError } from '@uk/hal';

/**
 * A copy-on-write disk over shared base bytes: reads see the base with this disk's own
 * blocks laid over it, writes go to those blocks only. Thousands of damaged variants of one
 * image cost only the blocks each one changes.
 */
export class OverlayDisk implements BlockDevice {
  readonly blockSize = 512;
  readonly blockCount: number;
  readonly readOnly = false;
  readonly queueDepth = 1;
  readonly canDiscard = false;
  readonly blocks = new Map<number, Uint8Array>();

  constructor(readonly base: Uint8Array) {
    this.blockCount = base.length / 512;
  }

  /** The block's bytes, copied into the overlay on first use (for damaging it). */
  own(block: number): Uint8Array {
    let b = this.blocks.get(block);
    if (b === undefined) {
      b = this.base.slice(block * 512, block * 512 + 512);
      this.blocks.set(block, b);
    }
    return b;
  }

  /** Byte at volume offset `at`, to damage. */
  poke(at: number, value: number): void {
    this.own(Math.floor(at / 512))[at % 512] = value;
  }

  peek(at: number): number {
    const b = this.blocks.get(Math.floor(at / 512));
    return b !== undefined ? b[at % 512] : this.base[at];
  }

  #check(block: number, bytes: number): void {
    if (bytes % 512 !== 0 || block < 0 || block + bytes / 512 > this.blockCount) throw new KernelError('EINVAL', `transfer of ${bytes} bytes at block ${block} is outside the disk`);
  }

  async read(block: number, buffer: Uint8Array): Promise<void> {
    this.#check(block, buffer.length);
    for (let k = 0; k < buffer.length / 512; k++) {
      const own = this.blocks.get(block + k);
      if (own !== undefined) buffer.set(own, k * 512);
      else buffer.set(this.base.subarray((block + k) * 512, (block + k + 1) * 512), k * 512);
    }
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    this.#check(block, data.length);
    for (let k = 0; k < data.length / 512; k++) this.blocks.set(block + k, data.slice(k * 512, (k + 1) * 512));
  }

  async flush(): Promise<void> {}

  async discard(): Promise<void> {
    throw new KernelError('ENOTSUP', 'no discard');
  }

  async writeZeroes(block: number, count: number): Promise<void> {
    await this.write(block, new Uint8Array(count * 512));
  }
}

/**
 * A disk whose power is cut after a given number of block writes: from then on writes (and
 * the rest of a request that straddles the cut) are silently lost, as they would be when a
 * machine dies with requests in flight. Blocks already written stay: the disk is not a cache.
 */
export class CuttableDisk implements BlockDevice {
  readonly blockSize = 512;
  readonly blockCount: number;
  readonly readOnly = false;
  readonly queueDepth = 4;
  readonly canDiscard = false;
  /** Blocks written so far (the counter the cut is set on). */
  written = 0;
  /** Flushes that completed before the cut. */
  flushes = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Blocks that may still be written; Infinity for no cut. */
    public budget: number,
  ) {
    this.blockCount = bytes.length / 512;
  }

  get cut(): boolean {
    return this.written >= this.budget;
  }

  async read(block: number, buffer: Uint8Array): Promise<void> {
    buffer.set(this.bytes.subarray(block * 512, block * 512 + buffer.length));
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    for (let k = 0; k < data.length / 512; k++) {
      if (this.written >= this.budget) return;
      this.bytes.set(data.subarray(k * 512, (k + 1) * 512), (block + k) * 512);
      this.written++;
    }
  }

  async flush(): Promise<void> {
    if (!this.cut) this.flushes++;
  }

  async discard(): Promise<void> {
    throw new KernelError('ENOTSUP', 'no discard');
  }

  async writeZeroes(block: number, count: number): Promise<void> {
    await this.write(block, new Uint8Array(count * 512));
  }
}
