import { KernelError } from '@uk/hal';
import { type BlockDevice, checkRange, checkTransfer, checkWritable } from '../device/block-device.js';

export interface RamDiskOptions {
  /** Bytes per block (default 512): a power of two, at least 512. */
  blockSize?: number;
  /** Blocks (ignored when `bytes` is given). */
  blockCount?: number;
  /** The disk's contents; kept, not copied. Its length must be whole blocks. */
  bytes?: Uint8Array;
  readOnly?: boolean;
}

/** A block device in memory: for tests, for scratch space, and for images shipped inside an app. */
export class RamDisk implements BlockDevice {
  readonly blockSize: number;
  readonly blockCount: number;
  readonly readOnly: boolean;
  readonly queueDepth = 1;
  readonly canDiscard = true;
  /** The disk's bytes. */
  readonly bytes: Uint8Array;

  constructor(options: RamDiskOptions) {
    const bs = options.blockSize ?? 512;
    if (!Number.isInteger(bs) || bs < 512 || (bs & (bs - 1)) !== 0) throw new KernelError('EINVAL', `block size ${bs} must be a power of two, at least 512`);
    this.blockSize = bs;
    if (options.bytes !== undefined) {
      if (options.bytes.length % bs !== 0) throw new KernelError('EINVAL', `a RAM disk of ${options.bytes.length} bytes is not a whole number of ${bs}-byte blocks`);
      this.bytes = options.bytes;
    } else {
      const n = options.blockCount ?? 0;
      if (!Number.isSafeInteger(n) || n < 0) throw new KernelError('EINVAL', `block count ${n} must be a whole number`);
      this.bytes = new Uint8Array(n * bs);
    }
    this.blockCount = this.bytes.length / bs;
    this.readOnly = options.readOnly ?? false;
  }

  async read(block: number, buffer: Uint8Array): Promise<void> {
    checkTransfer(this, 'read', block, buffer.length);
    const at = block * this.blockSize;
    buffer.set(this.bytes.subarray(at, at + buffer.length));
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    checkWritable(this, 'write');
    checkTransfer(this, 'write', block, data.length);
    this.bytes.set(data, block * this.blockSize);
  }

  async flush(): Promise<void> {}

  async discard(block: number, count: number): Promise<void> {
    checkWritable(this, 'discard');
    checkRange(this, 'discard', block, count);
    this.bytes.fill(0, block * this.blockSize, (block + count) * this.blockSize);
  }

  async writeZeroes(block: number, count: number): Promise<void> {
    checkWritable(this, 'write-zeroes');
    checkRange(this, 'write-zeroes', block, count);
    this.bytes.fill(0, block * this.blockSize, (block + count) * this.blockSize);
  }
}
