import type { Fdt } from '../tree/fdt.js';
import { reg } from './addressing.js';

/** A range of physical memory. */
export interface MemoryRange {
  readonly base: number;
  readonly size: number;
}

const PAGE = 4096;

interface Range {
  start: number;
  end: number;
}

/**
 * RAM a kernel may use: the /memory nodes, less the memory-reservation block, the
 * /reserved-memory children and the ranges in `exclude` (the blob itself, wherever the boot
 * loader left it), trimmed to whole 4 KiB pages and sorted by address.
 */
export function usableMemory(fdt: Fdt, exclude: readonly MemoryRange[] = []): MemoryRange[] {
  const ram: Range[] = [];
  for (const node of fdt.root.children) {
    if (node.prop('device_type')?.string() !== 'memory') continue;
    for (const r of reg(node)) ram.push({ start: r.address, end: r.address + r.size });
  }
  const holes: Range[] = fdt.memReserve.map((r) => ({ start: Number(r.address), end: Number(r.address + r.size) }));
  const reserved = fdt.node('/reserved-memory');
  for (const child of reserved?.children ?? []) {
    for (const r of reg(child)) holes.push({ start: r.address, end: r.address + r.size });
  }
  for (const r of exclude) holes.push({ start: r.base, end: r.base + r.size });

  let free = ram;
  for (const h of holes) {
    const next: Range[] = [];
    for (const r of free) {
      if (h.end <= r.start || h.start >= r.end) next.push(r);
      else {
        if (h.start > r.start) next.push({ start: r.start, end: h.start });
        if (h.end < r.end) next.push({ start: h.end, end: r.end });
      }
    }
    free = next;
  }
  return free
    .map((r) => ({ start: Math.ceil(r.start / PAGE) * PAGE, end: Math.floor(r.end / PAGE) * PAGE }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start)
    .map((r) => ({ base: r.start, size: r.end - r.start }));
}
