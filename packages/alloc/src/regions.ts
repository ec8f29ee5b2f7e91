/**
 * Cleaning up the free-memory list boot hands over: sorted, adjacent pieces joined, each
 * trimmed to the allocator's granule, empty ones dropped, overlaps refused.
 */
import type { MemoryRegion } from '@uk/hal';
import { KernelError } from '@uk/hal';
import { ADDRESS_LIMIT, alignDown, alignUp, hex } from './bits.js';

export function normalizeRegions(regions: readonly MemoryRegion[], granule: number): MemoryRegion[] {
  const sorted = regions
    .map((r) => {
      if (!Number.isSafeInteger(r.base) || !Number.isSafeInteger(r.size) || r.base < 0 || r.size < 0 || r.base + r.size > ADDRESS_LIMIT) {
        throw new KernelError('EINVAL', `memory region base ${hex(r.base)} size ${String(r.size)} is not a range of physical addresses below 2^53`);
      }
      return { base: r.base, size: r.size };
    })
    .filter((r) => r.size > 0)
    .sort((a, b) => a.base - b.base);
  const joined: { base: number; size: number }[] = [];
  for (const r of sorted) {
    const last = joined[joined.length - 1];
    if (last !== undefined && r.base < last.base + last.size) {
      throw new KernelError(
        'EINVAL',
        `memory regions overlap: ${hex(last.base)}–${hex(last.base + last.size)} and ${hex(r.base)}–${hex(r.base + r.size)}; boot must hand over disjoint free ranges`,
      );
    }
    if (last !== undefined && r.base === last.base + last.size) last.size += r.size;
    else joined.push(r);
  }
  const out: MemoryRegion[] = [];
  for (const r of joined) {
    const base = alignUp(r.base, granule);
    const end = alignDown(r.base + r.size, granule);
    if (end > base) out.push({ base, size: end - base });
  }
  return out;
}

/** Sum of region sizes. */
export function totalSize(regions: readonly MemoryRegion[]): number {
  let total = 0;
  for (const r of regions) total += r.size;
  return total;
}
