import { KernelError } from '@uk/hal';

/**
 * A device of fixed-size blocks: what file systems see and what block drivers provide
 * (virtio-blk, a RAM disk, a partition of another device). Every operation is asynchronous
 * and may run alongside others, up to `queueDepth` at a time in the device; more wait in
 * the driver.
 */
export interface BlockDevice {
  /** Bytes per block: a power of two, at least 512. */
  readonly blockSize: number;
  /** Blocks on the device. */
  readonly blockCount: number;
  /** Writes, discards and write-zeroes fail with EROFS. */
  readonly readOnly: boolean;
  /** Requests the device works on at once. */
  readonly queueDepth: number;
  /** Whether `discard` reaches the device; when false it fails with ENOTSUP. */
  readonly canDiscard: boolean;
  /** Reads `buffer.length / blockSize` blocks starting at `block` into `buffer`. */
  read(block: number, buffer: Uint8Array): Promise<void>;
  /** Writes `data.length / blockSize` blocks starting at `block`. Durable only after `flush`. */
  write(block: number, data: Uint8Array): Promise<void>;
  /** Makes every write that completed before the call durable. */
  flush(): Promise<void>;
  /** Tells the device that `count` blocks from `block` hold nothing worth keeping. */
  discard(block: number, count: number): Promise<void>;
  /** Sets `count` blocks from `block` to zeroes (without sending the zeroes, where the device can). */
  writeZeroes(block: number, count: number): Promise<void>;
}

/**
 * Checks a transfer of `bytes` at `block` against the device; returns the number of blocks.
 * Throws EINVAL for a length that is not whole blocks or a range past the end.
 */
export function checkTransfer(dev: Pick<BlockDevice, 'blockSize' | 'blockCount'>, op: string, block: number, bytes: number): number {
  if (bytes % dev.blockSize !== 0) {
    throw new KernelError('EINVAL', `${op} of ${bytes} bytes: the length must be a multiple of the block size (${dev.blockSize} bytes)`);
  }
  return checkRange(dev, op, block, bytes / dev.blockSize);
}

/** Checks `count` blocks at `block` against the device; returns `count`. */
export function checkRange(dev: Pick<BlockDevice, 'blockCount'>, op: string, block: number, count: number): number {
  if (!Number.isSafeInteger(block) || block < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new KernelError('EINVAL', `${op} at block ${block} of ${count} blocks: block numbers and counts are whole numbers from 0`);
  }
  if (block + count > dev.blockCount) {
    throw new KernelError('EINVAL', `${op} of blocks ${block}..${block + count - 1} runs past the end of the device (${dev.blockCount} blocks)`);
  }
  return count;
}

/** Throws EROFS for a change to a read-only device. */
export function checkWritable(dev: Pick<BlockDevice, 'readOnly'>, op: string): void {
  if (dev.readOnly) throw new KernelError('EROFS', `${op}: the device is read-only`);
}

/**
 * Zeroes blocks by writing zero-filled buffers, at most `chunkBlocks` at a time: the fallback
 * for devices that have no write-zeroes command.
 */
export async function writeZeroesByWriting(dev: Pick<BlockDevice, 'blockSize' | 'write'>, block: number, count: number, chunkBlocks = 128): Promise<void> {
  if (count === 0) return;
  const zeros = new Uint8Array(Math.min(count, chunkBlocks) * dev.blockSize);
  for (let done = 0; done < count; ) {
    const n = Math.min(count - done, chunkBlocks);
    await dev.write(block + done, n * dev.blockSize === zeros.length ? zeros : zeros.subarray(0, n * dev.blockSize));
    done += n;
  }
}
