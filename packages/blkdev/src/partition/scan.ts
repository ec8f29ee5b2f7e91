import { type Component, InitLevel, isKernelError } from '@uk/hal';
import type { BlockDevice } from '../device/block-device.js';
import { BLOCK_DEVICE } from '../device/naming.js';
import { readGpt } from './gpt.js';
import { mbrKind, readMbr, readSector0 } from './mbr.js';
import { PartitionDevice } from './partition-device.js';
import type { PartitionTable } from './table.js';

/**
 * Reads whatever partition table the disk has: a GPT behind a protective MBR, or an MBR.
 * Returns undefined for a disk without one; a corrupt table is EIO.
 */
export async function readPartitionTable(dev: BlockDevice): Promise<PartitionTable | undefined> {
  if (dev.blockCount === 0) return undefined;
  const kind = mbrKind(await readSector0(dev, 0));
  if (kind === 'protective') return readGpt(dev);
  if (kind === 'mbr') return readMbr(dev);
  return undefined;
}

/** The disk's partitions as block devices (empty for a disk without a table). */
export async function partitions(dev: BlockDevice): Promise<PartitionDevice[]> {
  const table = await readPartitionTable(dev);
  return table === undefined ? [] : table.partitions.map((p) => new PartitionDevice(dev, p));
}

/**
 * A component that registers every partition of every disk registered so far as a block
 * device of its own: vda1, vda2, ... List it after the disk drivers. A disk whose table is
 * corrupt stays usable as a whole; the console says why its partitions are missing.
 */
export function partitionScan(): Component {
  return {
    name: 'partitions',
    level: InitLevel.Drivers,
    package: '@uk/blkdev',
    async init(ctx) {
      for (const [name, dev] of [...ctx.devices<BlockDevice>(BLOCK_DEVICE)]) {
        if (dev instanceof PartitionDevice) continue;
        try {
          for (const p of await partitions(dev)) ctx.addDevice(BLOCK_DEVICE, `${name}${p.info.number}`, p);
        } catch (e) {
          if (!isKernelError(e, 'EIO')) throw e;
          ctx.console.write(`partitions: ${name}: ${e.message}; using the whole disk only\n`);
        }
      }
    },
  };
}
