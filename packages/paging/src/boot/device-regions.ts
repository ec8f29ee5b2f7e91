import { KernelError } from '@uk/hal';

/** The part of a device-tree node this walk reads (an `FdtNode` of @uk/fdt fits it). */
export interface DeviceTreeNode {
  readonly name: string;
  readonly children: readonly DeviceTreeNode[];
  readonly parent: DeviceTreeNode | null;
  prop(name: string): { readonly value: Uint8Array } | undefined;
}

/** A range of physical addresses a device answers at. */
export interface DeviceRegion {
  readonly base: number;
  readonly size: number;
  /** Path of the node it came from, for messages. */
  readonly node: string;
}

/** Nodes whose `reg` is not a device's registers. */
const NOT_DEVICES = /* @__PURE__ */ new Set(['memory', 'reserved-memory', 'cpus', 'chosen', 'aliases']);

/**
 * The register windows of every device in the tree, in CPU physical addresses: the `reg` of
 * each node under the root and, through their `ranges`, under buses such as `/soc`. Memory,
 * CPUs and disabled devices are left out; nodes whose parent has `#size-cells = 0` (CPUs,
 * hart numbers) have no window. A bus without `ranges` is not reachable from the CPU and is
 * not descended into.
 */
export function deviceRegions(root: DeviceTreeNode): DeviceRegion[] {
  const out: DeviceRegion[] = [];
  visit(root, (a) => a, out);
  return out;
}

function visit(bus: DeviceTreeNode, toCpu: (addr: number) => number | undefined, out: DeviceRegion[]): void {
  const ac = cells(bus, '#address-cells', 2);
  const sc = cells(bus, '#size-cells', 1);
  for (const node of bus.children) {
    const base = baseName(node.name);
    if (NOT_DEVICES.has(base) || text(node, 'device_type') === 'memory') continue;
    const status = text(node, 'status');
    if (status !== undefined && status !== 'okay' && status !== 'ok') continue;
    const reg = node.prop('reg');
    if (reg !== undefined && sc > 0 && ac <= 2 && sc <= 2) {
      const v = reg.value;
      const entry = (ac + sc) * 4;
      if (v.length % entry !== 0) {
        throw new KernelError('EINVAL', `${path(node)}: reg is ${v.length} bytes, not a multiple of ${entry} (${ac} address + ${sc} size cells); fix the device tree`);
      }
      for (let off = 0; off < v.length; off += entry) {
        const size = readCells(v, off + ac * 4, sc);
        const pa = toCpu(readCells(v, off, ac));
        if (pa !== undefined && size > 0) out.push({ base: pa, size, node: path(node) });
      }
    }
    const ranges = node.prop('ranges');
    if (ranges !== undefined) visit(node, compose(node, ac, ranges.value, toCpu), out);
  }
}

/** Child-bus address → CPU address through `ranges` (child address, parent address, length). */
function compose(bus: DeviceTreeNode, parentAc: number, ranges: Uint8Array, toCpu: (a: number) => number | undefined): (a: number) => number | undefined {
  if (ranges.length === 0) return toCpu; // empty ranges: the bus is an identity window
  const childAc = cells(bus, '#address-cells', 2);
  const childSc = cells(bus, '#size-cells', 1);
  if (childAc > 2 || parentAc > 2 || childSc > 2) return () => undefined;
  const entry = (childAc + parentAc + childSc) * 4;
  if (ranges.length % entry !== 0) {
    throw new KernelError('EINVAL', `${path(bus)}: ranges is ${ranges.length} bytes, not a multiple of ${entry}; fix the device tree`);
  }
  const windows: Array<{ child: number; parent: number; size: number }> = [];
  for (let off = 0; off < ranges.length; off += entry) {
    windows.push({
      child: readCells(ranges, off, childAc),
      parent: readCells(ranges, off + childAc * 4, parentAc),
      size: readCells(ranges, off + (childAc + parentAc) * 4, childSc),
    });
  }
  return (a) => {
    for (const w of windows) if (a >= w.child && a - w.child < w.size) return toCpu(w.parent + (a - w.child));
    return undefined;
  };
}

function cells(node: DeviceTreeNode, name: string, fallback: number): number {
  const p = node.prop(name);
  return p !== undefined && p.value.length === 4 ? readCells(p.value, 0, 1) : fallback;
}

/** A big-endian value of one or two 32-bit cells. */
function readCells(v: Uint8Array, off: number, n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const cell = ((v[off + i * 4] << 24) | (v[off + i * 4 + 1] << 16) | (v[off + i * 4 + 2] << 8) | v[off + i * 4 + 3]) >>> 0;
    x = x * 0x1_0000_0000 + cell;
  }
  return x;
}

function text(node: DeviceTreeNode, name: string): string | undefined {
  const p = node.prop(name);
  if (p === undefined) return undefined;
  let s = '';
  for (const b of p.value) {
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

function baseName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

function path(node: DeviceTreeNode): string {
  const parts: string[] = [];
  for (let n: DeviceTreeNode | null = node; n !== null && n.parent !== null; n = n.parent) parts.push(n.name);
  return `/${parts.reverse().join('/')}`;
}
