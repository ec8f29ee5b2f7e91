import type { FrameAllocator, Ram } from '@uk/hal';
import type { PageTableFormat } from '../format/format.js';
import { AddressSpace, type TlbControl } from '../space/address-space.js';
import { type DeviceRegion, type DeviceTreeNode, deviceRegions } from './device-regions.js';

const PAGE = 4096;

/** What the kernel address space holds, besides the tables. */
export interface KernelSpaceLayout {
  /** All of RAM, identity-mapped read/write, not executable. */
  readonly ram: { readonly base: number; readonly size: number };
  /** Device windows rounded out to whole pages, merged, RAM taken out; read/write, not executable. */
  readonly devices: ReadonlyArray<{ readonly base: number; readonly size: number }>;
  /** The device-tree regions they came from. */
  readonly regions: readonly DeviceRegion[];
}

/**
 * Builds the kernel's address space: an identity map of RAM and of every device window in
 * the device tree, with the largest pages that fit. Nothing is executable: the kernel's code
 * is JavaScript run by the machine, never fetched from guest RAM, so an instruction fetch
 * through these tables is always a bug and faults. Every page is global (one address space).
 */
export function buildKernelSpace(
  format: PageTableFormat,
  ram: Ram,
  frames: FrameAllocator,
  fdtRoot: DeviceTreeNode,
  tlb?: TlbControl,
): { space: AddressSpace; layout: KernelSpaceLayout } {
  const space = new AddressSpace(format, ram, frames, tlb === undefined ? {} : { tlb });
  const regions = deviceRegions(fdtRoot);
  const devices = pageWindows(regions, ram.base, ram.base + ram.size);
  const rw = { read: true, write: true, execute: false, global: true };
  try {
    const ramStart = floor(ram.base);
    space.map(ramStart, ramStart, ceil(ram.base + ram.size) - ramStart, rw);
    for (const d of devices) space.map(d.base, d.base, d.size, rw);
  } catch (e) {
    space.destroy();
    throw e;
  }
  return { space, layout: { ram: { base: ram.base, size: ram.size }, devices, regions } };
}

/** Rounds windows out to pages, merges those that overlap or touch, and cuts RAM out of them. */
function pageWindows(regions: readonly DeviceRegion[], ramBase: number, ramEnd: number): Array<{ base: number; size: number }> {
  const spans = regions.map((r) => ({ start: floor(r.base), end: ceil(r.base + r.size) })).sort((a, b) => a.start - b.start);
  const merged: Array<{ start: number; end: number }> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  const rs = floor(ramBase);
  const re = ceil(ramEnd);
  const out: Array<{ base: number; size: number }> = [];
  for (const m of merged) {
    if (m.start < rs) out.push({ base: m.start, size: Math.min(m.end, rs) - m.start });
    if (m.end > re) out.push({ base: Math.max(m.start, re), size: m.end - Math.max(m.start, re) });
  }
  return out;
}

function floor(a: number): number {
  return Math.floor(a / PAGE) * PAGE;
}

function ceil(a: number): number {
  return Math.ceil(a / PAGE) * PAGE;
}
