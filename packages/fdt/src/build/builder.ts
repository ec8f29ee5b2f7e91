import { FdtError } from '../error.js';
import { putBe32, putBe64 } from '../format/endian.js';
import {
  FDT_LAST_COMPATIBLE_VERSION,
  FDT_MAGIC,
  FDT_VERSION,
  HEADER_SIZE_V17,
  Header,
  MAX_DEPTH,
  RESERVE_ENTRY_SIZE,
  Token,
  align8,
} from '../format/layout.js';
import { encodeUtf8 } from '../text/utf8.js';
import { type FdtNodeSpec, type FdtSpec, specProps } from './spec.js';
import { StringTable } from './strings.js';
import { u64Of, writeValue } from './value.js';
import { ByteWriter } from './writer.js';

/**
 * Builds a version 17 DTB (last compatible version 16) laid out as dtc lays it out: header,
 * memory reservation block at the next 8-byte boundary, structure block, strings block
 * (names shared, including tails of longer names). Invalid names or values throw FdtError.
 */
export function buildFdt(spec: FdtSpec): Uint8Array {
  const bootCpuId = spec.bootCpuId ?? 0;
  if (!Number.isInteger(bootCpuId) || bootCpuId < 0 || bootCpuId > 0xffffffff) {
    throw new FdtError('FDT_BAD_PROPERTY', `bootCpuId ${bootCpuId} is not a 32-bit unsigned integer`);
  }
  const reservations = (spec.memReserve ?? []).map((r, i) => {
    const address = u64Of(`memory reservation #${i} address`, r.address);
    const size = u64Of(`memory reservation #${i} size`, r.size);
    if (size === 0n) {
      throw new FdtError('FDT_BAD_STRUCTURE', `memory reservation #${i} has size 0, which readers take as the end of the list`);
    }
    return { address, size };
  });

  const rootName = spec.root.name;
  if (rootName !== '' && rootName !== '/') {
    throw new FdtError('FDT_BAD_STRUCTURE', `the root node's name must be '' (or '/'), not "${rootName}"`);
  }
  const strings = new StringTable();
  const struct = new ByteWriter(4096);
  writeNode(struct, strings, spec.root, '', '/', 1);
  struct.u32(Token.End);

  const stringsBytes = strings.bytes();
  const structBytes = struct.view();
  const rsvOffset = align8(HEADER_SIZE_V17);
  const structOffset = rsvOffset + (reservations.length + 1) * RESERVE_ENTRY_SIZE;
  const stringsOffset = structOffset + structBytes.length;
  const totalSize = stringsOffset + stringsBytes.length;
  if (totalSize > 0xffffffff) throw new FdtError('FDT_BAD_OFFSET', `the tree needs ${totalSize} bytes, more than a DTB can hold (4 GiB)`);

  const out = new Uint8Array(totalSize);
  putBe32(out, Header.magic, FDT_MAGIC);
  putBe32(out, Header.totalSize, totalSize);
  putBe32(out, Header.offDtStruct, structOffset);
  putBe32(out, Header.offDtStrings, stringsOffset);
  putBe32(out, Header.offMemRsvmap, rsvOffset);
  putBe32(out, Header.version, FDT_VERSION);
  putBe32(out, Header.lastCompVersion, FDT_LAST_COMPATIBLE_VERSION);
  putBe32(out, Header.bootCpuidPhys, bootCpuId);
  putBe32(out, Header.sizeDtStrings, stringsBytes.length);
  putBe32(out, Header.sizeDtStruct, structBytes.length);
  let off = rsvOffset;
  for (const r of reservations) {
    putBe64(out, off, r.address);
    putBe64(out, off + 8, r.size);
    off += RESERVE_ENTRY_SIZE;
  }
  // The terminating entry is the zeroes already there.
  out.set(structBytes, structOffset);
  out.set(stringsBytes, stringsOffset);
  return out;
}

function writeNode(w: ByteWriter, strings: StringTable, node: FdtNodeSpec, name: string, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new FdtError('FDT_BAD_STRUCTURE', `${path}: nodes nest deeper than ${MAX_DEPTH} levels`);
  w.u32(Token.BeginNode);
  w.bytes(encodeUtf8(name));
  w.bytes(ZERO);
  w.align4();

  const seen = new Set<string>();
  for (const [prop, value] of specProps(node)) {
    const where = `${path} property "${prop}"`;
    if (prop.length === 0 || prop.indexOf('\0') >= 0) throw new FdtError('FDT_BAD_PROPERTY', `${path}: property name "${prop}" is empty or contains NUL`);
    if (seen.has(prop)) throw new FdtError('FDT_BAD_PROPERTY', `${where} is given twice`);
    seen.add(prop);
    w.u32(Token.Prop);
    const lenAt = w.length;
    w.u32(0);
    w.u32(strings.offsetOf(prop));
    const start = w.length;
    writeValue(w, where, value);
    putBe32(w.reserve(0), lenAt, w.length - start);
    w.align4();
  }

  const names = new Set<string>();
  for (const child of node.children ?? []) {
    const n = child.name;
    if (typeof n !== 'string' || n.length === 0 || n.indexOf('\0') >= 0 || n.indexOf('/') >= 0) {
      throw new FdtError('FDT_BAD_STRUCTURE', `${path}: child node name "${String(n)}" is empty or contains NUL or '/'`);
    }
    if (names.has(n)) throw new FdtError('FDT_BAD_STRUCTURE', `${path}: two children are named "${n}"`);
    names.add(n);
    writeNode(w, strings, child, n, path === '/' ? `/${n}` : `${path}/${n}`, depth + 1);
  }
  w.u32(Token.EndNode);
}

const ZERO = new Uint8Array(1);
