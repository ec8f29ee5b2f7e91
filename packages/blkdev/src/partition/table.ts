/** One partition, as a table describes it. */
export interface PartitionInfo {
  /** 1-based, as Linux numbers them: MBR primaries 1-4 and logicals from 5; GPT entries by slot. */
  readonly number: number;
  readonly firstBlock: number;
  readonly blockCount: number;
  /** MBR: the type byte as "0x83"; GPT: the type GUID. */
  readonly type: string;
  /** GPT only: the partition's name and unique GUID. */
  readonly name?: string;
  readonly guid?: string;
  /** MBR only: the boot flag. */
  readonly bootable?: boolean;
}

export interface PartitionTable {
  readonly scheme: 'mbr' | 'gpt';
  /** GPT: the disk GUID; MBR: the 32-bit disk signature as 8 hex digits. */
  readonly diskId: string;
  readonly partitions: readonly PartitionInfo[];
}

/** Throws when two partitions share blocks; `fail` builds the error. */
export function checkNoOverlap(parts: readonly PartitionInfo[], fail: (msg: string) => Error): void {
  const sorted = [...parts].sort((a, b) => a.firstBlock - b.firstBlock);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].firstBlock < prev.firstBlock + prev.blockCount) {
      throw fail(`partitions ${prev.number} and ${sorted[i].number} overlap`);
    }
  }
}
