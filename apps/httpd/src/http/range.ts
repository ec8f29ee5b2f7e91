/** What a Range field asks of a representation of `size` bytes. */
export type RangeResult =
  /** No usable range: send the whole thing (200). */
  | { readonly kind: 'full' }
  /** One satisfiable range, [start, end] inclusive (206). */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  /** Nothing in the file (416). */
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };

/**
 * A `Range: bytes=...` field (RFC 9110 §14.2). One range is served as 206; several are
 * served as the whole representation, which the RFC allows, and which spares multipart; a
 * field that does not parse is ignored.
 */
export function parseRange(header: string, size: number): RangeResult {
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (m === null) return FULL;
  const specs = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return FULL;
  const r = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]);
  if (r === null || (r[1] === '' && r[2] === '')) return FULL;
  if (r[1] === '') {
    // The last N bytes.
    const n = Number(r[2]);
    if (!Number.isSafeInteger(n)) return FULL;
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(r[1]);
  const end = r[2] === '' ? Number.MAX_SAFE_INTEGER : Number(r[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return FULL;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
