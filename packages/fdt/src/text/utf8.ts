/**
 * UTF-8 without TextEncoder/TextDecoder: those are Web APIs, and the kernel's global scope
 * has only ECMAScript built-ins. ECMAScript does have a UTF-8 codec, behind the URI functions:
 * `encodeURIComponent` writes UTF-8 as %XX escapes and `decodeURIComponent` reads them back.
 * Device-tree text is almost always ASCII, so that is the fast path.
 */

const NON_ASCII = /[\x80-\xff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  // In slices: one built-in call per 4 KiB instead of a loop, and no argument-count limit.
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/** Decodes bytes [start, end); a malformed sequence decodes to U+FFFD per byte. */
export function decodeUtf8(b: Uint8Array, start: number, end: number): string {
  const raw = latin1(b, start, end);
  if (!NON_ASCII.test(raw)) return raw;
  try {
    return decodeURIComponent(escape(raw));
  } catch {
    // Malformed somewhere: decode run by run, so only the bad bytes become U+FFFD.
    return raw.replace(/[\xc0-\xff][\x80-\xbf]*|[\x80-\xbf]+/g, (seq) => {
      try {
        return decodeURIComponent(escape(seq));
      } catch {
        return '\ufffd'.repeat(seq.length);
      }
    });
  }
}

/** Bytes of `s` as a "binary string": one char per UTF-8 byte; lone surrogates become U+FFFD. */
function utf8Binary(s: string): string {
  return unescape(encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd')));
}

export function utf8Length(s: string): number {
  return NON_ASCII_OR_WIDE.test(s) ? utf8Binary(s).length : s.length;
}

const NON_ASCII_OR_WIDE = /[^\x00-\x7f]/;

/** Writes the UTF-8 of `s` at `b[off]`; returns the offset after it. */
export function encodeUtf8Into(s: string, b: Uint8Array, off: number): number {
  const bin = NON_ASCII_OR_WIDE.test(s) ? utf8Binary(s) : s;
  for (let i = 0; i < bin.length; i++) b[off++] = bin.charCodeAt(i);
  return off;
}

export function encodeUtf8(s: string): Uint8Array {
  const bin = NON_ASCII_OR_WIDE.test(s) ? utf8Binary(s) : s;
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
