/**
 * The split virtqueue (virtio 1.2 §2.7): a descriptor table, the driver area ("available
 * ring") and the device area ("used ring"), all little-endian in guest memory.
 *
 *   descriptor  { le64 addr; le32 len; le16 flags; le16 next; }                 16 bytes, align 16
 *   avail       { le16 flags; le16 idx; le16 ring[N]; le16 used_event; }       6 + 2N,   align 2
 *   used        { le16 flags; le16 idx; { le32 id; le32 len; } ring[N]; le16 avail_event; }  6 + 8N, align 4
 */

/** The largest queue a split ring can have. Queue sizes are powers of two. */
export const MAX_QUEUE_SIZE = 32768;

export const DESC_SIZE = 16;
export const DescField = { addr: 0, len: 8, flags: 12, next: 14 } as const;

export const DescFlag = {
  /** The chain continues at `next`. */
  Next: 1,
  /** The device writes this buffer (otherwise it reads it). */
  Write: 2,
  /** The buffer is a table of descriptors. */
  Indirect: 4,
} as const;

export const AvailField = { flags: 0, idx: 2, ring: 4 } as const;
/** avail.flags: the driver does not want interrupts (ignored once RING_EVENT_IDX is negotiated). */
export const AVAIL_F_NO_INTERRUPT = 1;

export const UsedField = { flags: 0, idx: 2, ring: 4 } as const;
export const USED_ELEM_SIZE = 8;
/** used.flags: the device does not want notifications (ignored once RING_EVENT_IDX is negotiated). */
export const USED_F_NO_NOTIFY = 1;

export const RingAlign = { desc: 16, avail: 2, used: 4 } as const;

export function isValidQueueSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_QUEUE_SIZE && (n & (n - 1)) === 0;
}

export function descTableBytes(size: number): number {
  return DESC_SIZE * size;
}

/** Bytes of the driver area, used_event included. */
export function availRingBytes(size: number): number {
  return 6 + 2 * size;
}

/** Bytes of the device area, avail_event included. */
export function usedRingBytes(size: number): number {
  return 6 + USED_ELEM_SIZE * size;
}

/** Offset of avail.ring[i] from the start of the driver area. */
export function availEntryOffset(i: number): number {
  return AvailField.ring + 2 * i;
}

/** Offset of used_event (the last field of the driver area). */
export function usedEventOffset(size: number): number {
  return AvailField.ring + 2 * size;
}

/** Offset of used.ring[i] from the start of the device area. */
export function usedEntryOffset(i: number): number {
  return UsedField.ring + USED_ELEM_SIZE * i;
}

/** Offset of avail_event (the last field of the device area). */
export function availEventOffset(size: number): number {
  return UsedField.ring + USED_ELEM_SIZE * size;
}

/** Where the three parts go when one contiguous block holds a whole queue. */
export interface SplitRingLayout {
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  readonly bytes: number;
}

/** Lays out a queue of `size` entries in one block: descriptors, then driver area, then device area. */
export function splitRingLayout(size: number): SplitRingLayout {
  const desc = 0;
  const avail = descTableBytes(size);
  const used = alignUp(avail + availRingBytes(size), RingAlign.used);
  return { size, desc, avail, used, bytes: used + usedRingBytes(size) };
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
