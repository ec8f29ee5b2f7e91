/** A request target reduced to the file path it names. */
export type TargetResult = { readonly ok: true; readonly path: string; readonly trailingSlash: boolean } | { readonly ok: false; readonly status: number; readonly reason: string };

/**
 * The path of an origin-form (`/a/b?q`) or absolute-form (`http://host/a/b`) target, with
 * percent-escapes decoded and `.` and `..` resolved (RFC 3986 §5.2.4). A path that climbs above
 * the root, holds a NUL or a bad escape is refused: nothing outside the document root can be
 * named.
 */
export function targetPath(target: string): TargetResult {
  let t = target;
  if (t.charCodeAt(0) !== 47) {
    const m = /^https?:\/\/[^/?#]*(.*)$/i.exec(t);
    if (m === null) return { ok: false, status: 400, reason: 'the request target is not a path' };
    t = m[1] === '' ? '/' : m[1];
    if (t.charCodeAt(0) !== 47) t = `/${t}`;
  }
  const q = t.indexOf('?');
  if (q >= 0) t = t.slice(0, q);
  const h = t.indexOf('#');
  if (h >= 0) t = t.slice(0, h);
  let decoded: string;
  try {
    decoded = t.indexOf('%') >= 0 ? decodeURIComponent(t) : t;
  } catch {
    return { ok: false, status: 400, reason: 'a bad percent-escape in the path' };
  }
  if (decoded.indexOf('\0') >= 0 || decoded.indexOf('\\') >= 0) return { ok: false, status: 400, reason: 'a NUL or backslash in the path' };
  const out: string[] = [];
  const parts = decoded.split('/');
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) return { ok: false, status: 400, reason: 'the path climbs above the root' };
      out.pop();
      continue;
    }
    out.push(p);
  }
  const last = parts[parts.length - 1];
  return { ok: true, path: `/${out.join('/')}`, trailingSlash: last === '' || last === '.' || last === '..' };
}
