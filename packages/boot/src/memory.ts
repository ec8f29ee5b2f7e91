import { type Fdt, reg } from '@uk/fdt';
import type { MemoryRegion } from '@uk/hal';

const PAGE = 4096;

interface Range {
  start: number;
  end: number;
}

/**
 * Free RAM: the /memory nodes, less the memory-reservation block, /reserved-memory children,
 * and the device tree itself, trimmed to whole pages.
 */
export function freeMemory(fdt: Fdt, dtbAddr: number, dtbSize: number): MemoryRegion[] {
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
  holes.push({ start: dtbAddr, end: dtbAddr + dtbSize });

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
