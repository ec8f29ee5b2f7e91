import type { Fdt } from '../tree/fdt.js';
import type { FdtNode } from '../tree/node.js';

/**
 * A property value to build:
 * - Uint8Array: the bytes as they are;
 * - string / string[]: NUL-terminated string(s);
 * - number / number[]: 32-bit big-endian cells (negative numbers as two's complement);
 * - { u64: [...] }: 64-bit big-endian values (`/bits/ 64` in dts);
 * - true: an empty property (a flag such as `interrupt-controller;`).
 */
export type FdtValue = Uint8Array | string | string[] | number | number[] | { u64: Array<bigint | number> } | true;

export interface FdtNodeSpec {
  /** Full node name with any unit address ('uart@10000000'); '' (or '/') for the root. */
  name: string;
  /**
   * Properties in order. A record keeps insertion order except that JavaScript puts
   * integer-like keys ('0', '12') first; pass [name, value] pairs when such names occur.
   */
  props?: Record<string, FdtValue> | ReadonlyArray<readonly [string, FdtValue]>;
  children?: FdtNodeSpec[];
}

export interface FdtSpec {
  root: FdtNodeSpec;
  bootCpuId?: number;
  memReserve?: Array<{ address: bigint | number; size: bigint | number }>;
}

/** Property entries of a spec, in order, whichever form they were given in. */
export function specProps(spec: FdtNodeSpec): ReadonlyArray<readonly [string, FdtValue]> {
  const p = spec.props;
  if (p === undefined) return [];
  return Array.isArray(p) ? (p as ReadonlyArray<readonly [string, FdtValue]>) : Object.entries(p);
}

/** A name that a record would move to the front: a canonical array index. */
function isIndexLike(name: string): boolean {
  if (!/^(0|[1-9][0-9]*)$/.test(name)) return false;
  return Number(name) < 0xffffffff;
}

/**
 * The spec of a parsed tree, values as copied bytes: buildFdt(fdtToSpec(parseFdt(x)))
 * rebuilds an equivalent blob (byte-identical when x was laid out the way dtc does).
 */
export function fdtToSpec(fdt: Fdt): FdtSpec {
  const out: FdtSpec = { root: nodeToSpec(fdt.root) };
  if (fdt.bootCpuId !== 0) out.bootCpuId = fdt.bootCpuId;
  if (fdt.memReserve.length > 0) out.memReserve = fdt.memReserve.map((r) => ({ address: r.address, size: r.size }));
  return out;
}

export function nodeToSpec(node: FdtNode): FdtNodeSpec {
  const spec: FdtNodeSpec = { name: node.name };
  if (node.properties.length > 0) {
    const entries = node.properties.map((p) => [p.name, p.value.slice()] as const);
    const names = new Set(entries.map((e) => e[0]));
    // A record loses order for index-like names and drops duplicates; pairs keep both.
    if (names.size !== entries.length || entries.some((e) => isIndexLike(e[0]))) spec.props = entries;
    else spec.props = Object.fromEntries(entries);
  }
  if (node.children.length > 0) spec.children = node.children.map(nodeToSpec);
  return spec;
}
