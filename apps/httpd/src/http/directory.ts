import { utf8 } from './bytes.js';
import { encodePath, escapeHtml } from './response.js';

export interface ListingEntry {
  readonly name: string;
  readonly directory: boolean;
  readonly size: number;
}

/** An HTML index of a directory, directories first, each group by name. */
export function directoryListing(path: string, entries: readonly ListingEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.directory === b.directory ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.directory ? -1 : 1));
  const base = path.endsWith('/') ? path : `${path}/`;
  const title = `Index of ${escapeHtml(base)}`;
  let rows = base === '/' ? '' : '<a href="../">../</a>\n';
  for (const e of sorted) {
    const name = e.directory ? `${e.name}/` : e.name;
    const href = escapeHtml(encodePath(`${base}${e.name}`) + (e.directory ? '/' : ''));
    rows += `<a href="${href}">${escapeHtml(name)}</a>${' '.repeat(Math.max(1, 50 - name.length))}${e.directory ? '-' : String(e.size)}\n`;
  }
  return utf8(`<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><hr><pre>\n${rows}</pre><hr></body></html>\n`);
}
