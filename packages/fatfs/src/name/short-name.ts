import { KernelError } from '@uk/hal';
import { NT_LOWER_BASE, NT_LOWER_EXT } from '../layout/dir-entry.js';
import { cp437Char } from './cp437.js';

/** Punctuation allowed in short names besides A-Z and 0-9 (Microsoft FAT specification, §6.1). */
const SHORT_PUNCTUATION = "$%'-_@~`!(){}^#&";

function isShortNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || SHORT_PUNCTUATION.includes(String.fromCharCode(c));
}

/** A short name for a new entry. */
export interface ShortNameChoice {
  /** The 11 bytes to store: base padded to 8, extension padded to 3, upper case. */
  readonly name: Uint8Array;
  /** DIR_NTRes case bits, for a lower-case 8.3 name stored without a long name. */
  readonly ntRes: number;
  /** The name needs long-name entries (it is not an 8.3 name, or its case is mixed). */
  readonly needsLong: boolean;
}

/** The 11 stored bytes as a string key (for sets of names in use). */
export function shortKey(name11: Uint8Array): string {
  return String.fromCharCode(...name11);
}

/** How a stored short name reads: "README.TXT", or "readme.txt" with the NT case bits. */
export function displayShortName(name11: Uint8Array, ntRes = 0): string {
  let end = 8;
  while (end > 0 && name11[end - 1] === 0x20) end--;
  let extEnd = 11;
  while (extEnd > 8 && name11[extEnd - 1] === 0x20) extEnd--;
  const part = (from: number, to: number, lower: boolean): string => {
    let s = '';
    for (let i = from; i < to; i++) {
      const c = name11[i];
      s += lower && c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : cp437Char(c);
    }
    return s;
  };
  const base = part(0, end, (ntRes & NT_LOWER_BASE) !== 0);
  return extEnd > 8 ? `${base}.${part(8, extEnd, (ntRes & NT_LOWER_EXT) !== 0)}` : base;
}

interface Fit {
  readonly name: Uint8Array;
  readonly ntRes: number;
  /** Upper and lower case within the base or within the extension. */
  readonly mixed: boolean;
}

/** The name as an 8.3 short name when it is one, whatever its case. */
function fit83(long: string): Fit | undefined {
  const dot = long.lastIndexOf('.');
  const base = dot < 0 ? long : long.slice(0, dot);
  const ext = dot < 0 ? '' : long.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return undefined;
  const name = new Uint8Array(11).fill(0x20);
  const caseOf = (s: string, at: number): number | undefined => {
    let lower = false;
    let upper = false;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 97 && c <= 122) {
        lower = true;
        c -= 32;
      } else if (c >= 65 && c <= 90) {
        upper = true;
      }
      if (!isShortNameChar(c)) return undefined;
      name[at + i] = c;
    }
    return lower && upper ? -1 : lower ? 1 : 0;
  };
  const b = caseOf(base, 0);
  const e = caseOf(ext, 8);
  if (b === undefined || e === undefined) return undefined;
  if (name[0] === 0xe5) return undefined;
  return { name, ntRes: (b === 1 ? NT_LOWER_BASE : 0) | (e === 1 ? NT_LOWER_EXT : 0), mixed: b === -1 || e === -1 };
}

/** The basis name of §7.4: upper case, spaces and leading dots gone, other characters as '_'. */
function basis(long: string): { base: string; ext: string } {
  const conv = (s: string): string => {
    let out = '';
    for (const ch of s.toUpperCase()) {
      const c = ch.charCodeAt(0);
      if (ch === ' ' || ch === '.') continue;
      out += ch.length === 1 && isShortNameChar(c) ? ch : '_';
    }
    return out;
  };
  const trimmed = long.replace(/^\.+/, '');
  const dot = trimmed.lastIndexOf('.');
  const base = conv(dot < 0 ? trimmed : trimmed.slice(0, dot)).slice(0, 8);
  const ext = dot < 0 ? '' : conv(trimmed.slice(dot + 1)).slice(0, 3);
  return { base: base.length > 0 ? base : '_', ext };
}

function pack(base: string, ext: string): Uint8Array {
  const name = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length && i < 8; i++) name[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length && i < 3; i++) name[8 + i] = ext.charCodeAt(i);
  return name;
}

/** A 16-bit hash of a long name, for the short-name tails once ~1..~4 are taken (as Windows does). */
function nameHash(long: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < long.length; i++) {
    h ^= long.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return ((h ^ (h >>> 16)) & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Chooses the short name of a new entry whose long name is `long` (already checked).
 * An 8.3 name keeps its own short name (lower case through the NT case bits, mixed case with
 * long entries); any other gets a basis name with a numeric tail (~1 .. ~4, then a hash of
 * the long name, then larger numbers) that `taken` does not know.
 */
export function chooseShortName(long: string, taken: (key: string) => boolean): ShortNameChoice {
  const fit = fit83(long);
  if (fit !== undefined && !taken(shortKey(fit.name))) {
    return fit.mixed ? { name: fit.name, ntRes: 0, needsLong: true } : { name: fit.name, ntRes: fit.ntRes, needsLong: false };
  }
  const { base, ext } = basis(long);
  const tryName = (b: string, n: number): Uint8Array | undefined => {
    const tail = `~${n}`;
    const name = pack(b.slice(0, 8 - tail.length) + tail, ext);
    return taken(shortKey(name)) ? undefined : name;
  };
  for (let n = 1; n <= 4; n++) {
    const name = tryName(base, n);
    if (name !== undefined) return { name, ntRes: 0, needsLong: true };
  }
  const hashed = base.slice(0, 2) + nameHash(long);
  for (let n = 1; n <= 9; n++) {
    const name = tryName(hashed, n);
    if (name !== undefined) return { name, ntRes: 0, needsLong: true };
  }
  for (let n = 5; n <= 999999; n++) {
    const name = tryName(base, n);
    if (name !== undefined) return { name, ntRes: 0, needsLong: true };
  }
  throw new KernelError('ENOSPC', `no free short name is left for "${long}" in this directory`);
}
