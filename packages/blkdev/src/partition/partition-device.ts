import { type BlockDevice, checkRange, checkTransfer } from '../device/block-device.js';
import type { PartitionInfo } from './table.js';

/** A partition as a block device of its own: requests are checked against its bounds and shifted. */
export class PartitionDevice implements BlockDevice {
  readonly blockSize: number;
  readonly blockCount: number;

  constructor(
    readonly parent: BlockDevice,
    readonly info: PartitionInfo,
  ) {
    this.blockSize = parent.blockSize;
    this.blockCount = info.blockCount;
  }

  get readOnly(): boolean {
    return this.parent.readOnly;
  }

  get queueDepth(): number {
    return this.parent.queueDepth;
  }

  get canDiscard(): boolean {
    return this.parent.canDiscard;
  }

  async read(block: number, buffer: Uint8Array): Promise<void> {
    checkTransfer(this, 'read', block, buffer.length);
    return this.parent.read(this.info.firstBlock + block, buffer);
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    checkTransfer(this, 'write', block, data.length);
    return this.parent.write(this.info.firstBlock + block, data);
  }

  async flush(): Promise<void> {
    return this.parent.flush();
  }

  async discard(block: number, count: number): Promise<void> {
    checkRange(this, 'discard', block, count);
    return this.parent.discard(this.info.firstBlock + block, count);
  }

  async writeZeroes(block: number, count: number): Promise<void> {
    checkRange(this, 'write-zeroes', block, count);
    return this.parent.writeZeroes(this.info.firstBlock + block, count);
  }
}
