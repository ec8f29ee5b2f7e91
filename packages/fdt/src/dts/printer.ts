import { be32 } from '../format/endian.js';
import { encodeUtf8 } from '../text/utf8.js';
import type { Fdt } from '../tree/fdt.js';
import { baseName, type FdtNode } from '../tree/node.js';
import type { FdtProperty } from '../tree/property.js';

/**
 * The tree as device-tree source, in the form `dtc -I dtb -O dts` prints it (dtc 1.6):
 * a `/dts-v1/;` header, `/memreserve/` lines, tab indentation, a blank line before each
 * child node, and each value guessed as a string, as 32-bit cells or as bytes by dtc's rules.
 * Like dtc, a `name` property that merely repeats the node's base name is left out.
 */
export function toDts(fdt: Fdt): string {
  const out: string[] = ['/dts-v1/;\n\n'];
  for (const r of fdt.memReserve) out.push(`/memreserve/\t0x${hex64(r.address)} 0x${hex64(r.size)};\n`);
  writeNode(out, fdt.root, 0);
  return out.join('');
}

function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function writeNode(out: string[], node: FdtNode, level: number): void {
  const indent = '\t'.repeat(level);
  out.push(indent, node.name.length > 0 ? node.name : '/', ' {\n');
  for (const p of node.properties) {
    if (p.name === 'name' && isRedundantName(node, p)) continue;
    out.push(indent, '\t', p.name, formatValue(p.value), ';\n');
  }
  for (const child of node.children) {
    out.push('\n');
    writeNode(out, child, level + 1);
  }
  out.push(indent, '};\n');
}

/** dtc drops a `name` property (one string) whose bytes repeat the node's base name. */
function isRedundantName(node: FdtNode, p: FdtProperty): boolean {
  const v = p.value;
  if (v.length === 0 || v[v.length - 1] !== 0 || v.indexOf(0) !== v.length - 1) return false;
  const base = encodeUtf8(baseName(node));
  if (v.length !== base.length + 1) return false;
  for (let i = 0; i < base.length; i++) if (v[i] !== base[i]) return false;
  return true;
}

/** Characters dtc accepts in a guessed string: printable ASCII, NUL and the C escapes. */
function isStringByte(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || c === 0 || (c >= 0x07 && c <= 0x0d);
}

/** ' = <value>' (or '' for an empty property), typed the way dtc guesses it. */
export function formatValue(v: Uint8Array): string {
  const len = v.length;
  if (len === 0) return '';
  let notString = 0;
  let nul = 0;
  for (let i = 0; i < len; i++) {
    const c = v[i];
    if (!isStringByte(c)) notString++;
    if (c === 0) nul++;
  }
  if (v[len - 1] === 0 && notString === 0 && nul <= len - nul) return ` = "${escapeString(v)}"`;
  if (len % 4 === 0) {
    let s = ' = <';
    for (let i = 0; i < len; i += 4) s += `${i > 0 ? ' ' : ''}0x${be32(v, i).toString(16).padStart(2, '0')}`;
    return `${s}>`;
  }
  let s = ' = [';
  for (let i = 0; i < len; i++) s += `${i > 0 ? ' ' : ''}${v[i].toString(16).padStart(2, '0')}`;
  return `${s}]`;
}

const ESCAPES: Record<number, string> = {
  0x07: '\\a',
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0b: '\\v',
  0x0c: '\\f',
  0x0d: '\\r',
  0x5c: '\\\\',
  0x22: '\\"',
  0x00: '\\0',
};

/** The bytes before the final NUL, escaped as dtc writes them. */
function escapeString(v: Uint8Array): string {
  let s = '';
  for (let i = 0; i < v.length - 1; i++) {
    const c = v[i];
    const e = ESCAPES[c];
    if (e !== undefined) s += e;
    else if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}
