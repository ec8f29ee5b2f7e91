import { FdtError } from '../error.js';
import { putBe64 } from '../format/endian.js';
import { encodeUtf8Into, utf8Length } from '../text/utf8.js';
import type { FdtValue } from './spec.js';
import type { ByteWriter } from './writer.js';

const U64_LIMIT = 1n << 64n;

function bad(where: string, why: string): FdtError {
  return new FdtError('FDT_BAD_PROPERTY', `${where}: ${why}`);
}

function cell(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw bad(where, `${String(v)} is not a 32-bit cell (an integer from -2^31 to 2^32-1)`);
  }
  return v >>> 0;
}

/** A 64-bit value as an unsigned bigint; negative values wrap as two's complement. */
export function u64Of(where: string, v: unknown): bigint {
  let x: bigint;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) x = BigInt(v);
  else throw bad(where, `${String(v)} is not a 64-bit value (a bigint or a safe integer)`);
  if (x < -(1n << 63n) || x >= U64_LIMIT) throw bad(where, `${x} does not fit in 64 bits`);
  return BigInt.asUintN(64, x);
}

function checkString(where: string, s: string): void {
  if (s.indexOf('\0') >= 0) throw bad(where, 'a string may not contain NUL; give a list as string[]');
}

/** Appends the encoded value of one property; returns nothing, throws FDT_BAD_PROPERTY on a bad value. */
export function writeValue(w: ByteWriter, where: string, v: FdtValue): void {
  if (v === true) return;
  if (v instanceof Uint8Array) {
    w.bytes(v);
    return;
  }
  if (typeof v === 'string') {
    checkString(where, v);
    const n = utf8Length(v);
    const b = w.reserve(n + 1);
    encodeUtf8Into(v, b, w.length);
    b[w.length + n] = 0;
    w.length += n + 1;
    return;
  }
  if (typeof v === 'number') {
    w.u32(cell(where, v));
    return;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return;
    if (typeof v[0] === 'string') {
      for (const s of v) {
        if (typeof s !== 'string') throw bad(where, 'a list mixes strings with other values');
        writeValue(w, where, s);
      }
    } else {
      for (const c of v) w.u32(cell(where, c));
    }
    return;
  }
  if (typeof v === 'object' && v !== null && Array.isArray((v as { u64?: unknown }).u64)) {
    const list = (v as { u64: unknown[] }).u64;
    const b = w.reserve(list.length * 8);
    for (const x of list) {
      putBe64(b, w.length, u64Of(where, x));
      w.length += 8;
    }
    return;
  }
  throw bad(where, `${v === null ? 'null' : typeof v} is not a property value (Uint8Array, string, string[], number, number[], { u64 } or true)`);
}
