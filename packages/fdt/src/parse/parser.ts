import { FdtError } from '../error.js';
import { be64 } from '../format/endian.js';
import { readHeader } from '../format/header.js';
import { MAX_DEPTH, RESERVE_ENTRY_SIZE, Token, align4 } from '../format/layout.js';
import { decodeUtf8 } from '../text/utf8.js';
import { Fdt, type MemoryReservation } from '../tree/fdt.js';
import { FdtNode } from '../tree/node.js';
import { FdtProperty } from '../tree/property.js';

// One constructor per error kind keeps each check to its message.
const truncated = (what: string, at: number) => new FdtError('FDT_TRUNCATED', what, at);
const misplaced = (what: string, at: number) => new FdtError('FDT_BAD_STRUCTURE', what, at);
const badName = (what: string, at: number) => new FdtError('FDT_BAD_STRING', what, at);

/**
 * Parses a DTB (version 16 or 17 layout). Every offset, size, name and token is checked;
 * a malformed blob throws FdtError and nothing else. The blob is copied once (totalsize
 * bytes), so property values stay valid whatever later happens to `bytes`.
 */
export function parseFdt(bytes: Uint8Array): Fdt {
  const h = readHeader(bytes);
  const b = bytes.slice(0, h.totalSize);
  const memReserve = readReservations(b, h.memRsvmapOffset, h.totalSize);
  const { root, nodes } = readStructure(b, h.structOffset, h.structOffset + h.structSize, h.stringsOffset, h.stringsSize);
  // The tree takes the header's facts (version, totalSize...) by name and ignores the offsets.
  return new Fdt({ ...h, memReserve, root, nodes });
}


/**
 * The reservation list ends at the first entry whose size is 0 (the specification writes
 * address and size 0; dtc and libfdt both stop on the size alone, and so does this).
 */
function readReservations(b: Uint8Array, start: number, end: number): MemoryReservation[] {
  const out: MemoryReservation[] = [];
  for (let off = start; ; off += RESERVE_ENTRY_SIZE) {
    if (off + RESERVE_ENTRY_SIZE > end) {
      throw truncated('reservation list is not terminated', off);
    }
    const size = be64(b, off + 8);
    if (size === 0n) return out;
    out.push(Object.freeze({ address: be64(b, off), size }));
  }
}

function readStructure(
  b: Uint8Array,
  start: number,
  end: number,
  stringsStart: number,
  stringsSize: number,
): { root: FdtNode; nodes: FdtNode[] } {
  // Property names repeat on every node; decode each name offset once.
  const names = new Map<number, string>();
  // Offsets of the NULs in the strings block, found on the first name lookup; a binary search
  // then ends any name in log time, so hostile name offsets cannot make parsing quadratic.
  let nuls: number[] | undefined;
  const stringsEnd = stringsStart + stringsSize;
  const nulAfter = (at: number): number => {
    if (nuls === undefined) {
      nuls = [];
      for (let p = b.indexOf(0, stringsStart); p >= 0 && p < stringsEnd; p = b.indexOf(0, p + 1)) nuls.push(p);
    }
    let lo = 0;
    let hi = nuls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nuls[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    return lo < nuls.length ? nuls[lo] : -1;
  };
  const nodes: FdtNode[] = [];
  let root: FdtNode | null = null;
  let current: FdtNode | null = null;
  let depth = 0;
  let off = start;

  for (;;) {
    if (off + 4 > end) {
      throw truncated('structure block ends before FDT_END', off);
    }
    // be32 written out: this loop runs at boot, before the JIT would inline a call.
    const token = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    switch (token) {
      case Token.BeginNode: {
        const nameStart = off + 4;
        const nul = b.indexOf(0, nameStart);
        if (nul < 0 || nul >= end) throw truncated('node name not terminated', nameStart);
        if (current === null) {
          if (root !== null) throw misplaced('second root node', off);
          if (nul !== nameStart) throw misplaced('root node has a name', nameStart);
        } else if (nul === nameStart) {
          throw misplaced('node with an empty name', nameStart);
        }
        if (depth >= MAX_DEPTH) throw misplaced('nodes nest too deep', off);
        const node: FdtNode = new FdtNode(decodeUtf8(b, nameStart, nul), current);
        if (current === null) root = node;
        else current.children.push(node);
        nodes.push(node);
        current = node;
        depth++;
        off = align4(nul + 1);
        break;
      }
      case Token.EndNode: {
        if (current === null) throw misplaced('FDT_END_NODE outside a node', off);
        current = current.parent;
        depth--;
        off += 4;
        break;
      }
      case Token.Prop: {
        if (current === null) throw misplaced('FDT_PROP outside a node', off);
        if (off + 12 > end) throw truncated('property runs past the structure block', off);
        const len = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
        const nameOff = ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0;
        const valueStart = off + 12;
        if (valueStart + len > end) {
          throw truncated('property runs past the structure block', off + 4);
        }
        let name = names.get(nameOff);
        if (name === undefined) {
          if (nameOff >= stringsSize) {
            throw badName('property name outside the strings block', off + 8);
          }
          const nameStart = stringsStart + nameOff;
          const nul = nulAfter(nameStart);
          if (nul < 0) {
            throw badName('property name outside the strings block', off + 8);
          }
          name = decodeUtf8(b, nameStart, nul);
          names.set(nameOff, name);
        }
        current.properties.push(new FdtProperty(name, b.subarray(valueStart, valueStart + len)));
        off = align4(valueStart + len);
        break;
      }
      case Token.Nop:
        off += 4;
        break;
      case Token.End: {
        if (current !== null) throw misplaced('FDT_END inside a node', off);
        if (root === null) throw misplaced('FDT_END before the root node', off);
        return { root, nodes };
      }
      default:
        throw new FdtError('FDT_BAD_TOKEN', `unknown token 0x${token.toString(16)}`, off);
    }
  }
}
