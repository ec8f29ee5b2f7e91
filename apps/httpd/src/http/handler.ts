import { concat } from './bytes.js';
import { etagOf, httpDate, notModified } from './conditional.js';
import { directoryListing } from './directory.js';
import { contentType } from './mime.js';
import { field, type RequestHead } from './parser.js';
import { parseRange } from './range.js';
import { encodePath, responseHead, simpleResponse } from './response.js';
import type { Site, SiteEntry } from './site.js';
import { targetPath } from './target.js';

/** What to send: `bytes` at once, then (for large files) `stream` read from the site in pieces. */
export interface Reply {
  readonly status: number;
  readonly bytes: Uint8Array;
  readonly stream?: { readonly path: string; readonly start: number; readonly length: number };
  /** Keep the connection open afterwards. */
  readonly keepAlive: boolean;
}

export interface HandlerOptions {
  /** Files up to this size are kept in memory with their heads (default 256 KiB). */
  readonly cacheFileBytes?: number;
  /** Bytes of file content kept in all (default 8 MiB). */
  readonly cacheBytes?: number;
  /** Entries of the cache, files and directories (default 4096). */
  readonly cacheEntries?: number;
  /** Directories without an index.html are listed (default true); else 403. */
  readonly autoindex?: boolean;
}

interface Cached {
  readonly entry: SiteEntry;
  readonly etag: string;
  readonly lastModified: string;
  readonly type: string;
  /** The file, when small enough to keep. */
  content?: Uint8Array;
  /** Whole 200 responses (head and body) for keep-alive and close, made on first use. */
  full?: [Uint8Array | undefined, Uint8Array | undefined];
}

const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * The static-file handler: GET and HEAD of files and directories under a Site, with
 * conditional requests (ETag / If-None-Match, Last-Modified / If-Modified-Since), single byte
 * ranges (with If-Range), directory redirects, index.html and listings. The document root is
 * taken to be read-only while serving: what was looked up is remembered (bounded), and small
 * files are kept whole with their response heads, so that a repeated GET costs one lookup.
 */
export class StaticHandler {
  readonly #cache = new Map<string, Cached>();
  #cachedBytes = 0;
  readonly #fileBytes: number;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #autoindex: boolean;

  constructor(
    private readonly site: Site,
    options: HandlerOptions = {},
  ) {
    this.#fileBytes = options.cacheFileBytes ?? 256 * 1024;
    this.#maxBytes = options.cacheBytes ?? 8 * 1024 * 1024;
    this.#maxEntries = options.cacheEntries ?? 4096;
    this.#autoindex = options.autoindex ?? true;
  }

  /** Bytes of file content held. */
  get cachedBytes(): number {
    return this.#cachedBytes;
  }

  async handle(req: RequestHead): Promise<Reply> {
    const keepAlive = req.keepAlive;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      if (req.method === 'OPTIONS') return { status: 204, bytes: simpleResponse({ status: 204, keepAlive, fields: ['Allow', ALLOW] }), keepAlive };
      return this.#simple(405, keepAlive, false, ['Allow', ALLOW]);
    }
    const t = targetPath(req.target);
    if (!t.ok) return this.#simple(t.status, keepAlive, head, [], t.reason);
    let path = t.path;
    let c = await this.#lookup(path);
    if (c === undefined) return this.#simple(404, keepAlive, head);
    if (c.entry.type === 'directory') {
      if (!t.trailingSlash && path !== '/') {
        const q = req.target.indexOf('?');
        const location = `${encodePath(path)}/${q >= 0 ? req.target.slice(q) : ''}`;
        return this.#simple(301, keepAlive, head, ['Location', location]);
      }
      const index = `${path === '/' ? '' : path}/index.html`;
      const ic = await this.#lookup(index);
      if (ic !== undefined && ic.entry.type === 'file') {
        path = index;
        c = ic;
      } else {
        if (!this.#autoindex) return this.#simple(403, keepAlive, head);
        return this.#listing(path, keepAlive, head);
      }
    }
    return this.#file(req, path, c, keepAlive, head);
  }

  async #file(req: RequestHead, path: string, c: Cached, keepAlive: boolean, head: boolean): Promise<Reply> {
    const size = c.entry.size;
    const conditional = req.fields.length > 0 && (field(req, 'if-none-match') !== undefined || field(req, 'if-modified-since') !== undefined);
    if (conditional && notModified(field(req, 'if-none-match'), field(req, 'if-modified-since'), c.etag, c.entry.mtimeMs)) {
      return { status: 304, bytes: responseHead(304, ['ETag', c.etag, 'Last-Modified', c.lastModified, 'Connection', keepAlive ? 'keep-alive' : 'close']), keepAlive };
    }
    const range = field(req, 'range');
    if (range !== undefined && this.#ifRangeHolds(field(req, 'if-range'), c)) {
      const r = parseRange(range, size);
      if (r.kind === 'unsatisfiable') return this.#simple(416, keepAlive, head, ['Content-Range', `bytes */${size}`]);
      if (r.kind === 'partial') {
        const length = r.end - r.start + 1;
        const bytes = responseHead(206, ['Content-Type', c.type, 'Content-Length', String(length), 'Content-Range', `bytes ${r.start}-${r.end}/${size}`, 'ETag', c.etag, 'Last-Modified', c.lastModified, 'Accept-Ranges', 'bytes', 'Connection', keepAlive ? 'keep-alive' : 'close']);
        if (head) return { status: 206, bytes, keepAlive };
        const content = await this.#content(path, c);
        if (content !== undefined) return { status: 206, bytes: concat(bytes, content.subarray(r.start, r.end + 1)), keepAlive };
        return { status: 206, bytes, stream: { path, start: r.start, length }, keepAlive };
      }
    }
    const k = keepAlive ? 0 : 1;
    if (!head) {
      const made = c.full?.[k];
      if (made !== undefined) return { status: 200, bytes: made, keepAlive };
    }
    const bytes = responseHead(200, ['Content-Type', c.type, 'Content-Length', String(size), 'ETag', c.etag, 'Last-Modified', c.lastModified, 'Accept-Ranges', 'bytes', 'Connection', keepAlive ? 'keep-alive' : 'close']);
    if (head) return { status: 200, bytes, keepAlive };
    const content = await this.#content(path, c);
    if (content !== undefined) {
      const full = concat(bytes, content);
      if (this.#cache.get(path) === c) {
        c.full ??= [undefined, undefined];
        c.full[k] = full;
        this.#cachedBytes += full.length;
      }
      return { status: 200, bytes: full, keepAlive };
    }
    return { status: 200, bytes, stream: { path, start: 0, length: size }, keepAlive };
  }

  /** If-Range (RFC 9110 §13.1.5): the range applies only while the validator still matches. */
  #ifRangeHolds(ifRange: string | undefined, c: Cached): boolean {
    if (ifRange === undefined) return true;
    const v = ifRange.trim();
    if (v.startsWith('"')) return v === c.etag;
    return v === c.lastModified;
  }

  async #listing(path: string, keepAlive: boolean, head: boolean): Promise<Reply> {
    const names = await this.site.list(path);
    const body = directoryListing(path, names.map((n) => ({ name: n.name, directory: n.entry.type === 'directory', size: n.entry.size })));
    const bytes = responseHead(200, ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', String(body.length), 'Connection', keepAlive ? 'keep-alive' : 'close']);
    return { status: 200, bytes: head ? bytes : concat(bytes, body), keepAlive };
  }

  #simple(status: number, keepAlive: boolean, head: boolean, fields: readonly string[] = [], detail?: string): Reply {
    return { status, bytes: simpleResponse({ status, keepAlive, head, fields, detail }), keepAlive };
  }

  async #lookup(path: string): Promise<Cached | undefined> {
    const hit = this.#cache.get(path);
    if (hit !== undefined) return hit;
    const entry = await this.site.stat(path);
    if (entry === undefined) return undefined;
    const c: Cached = { entry, etag: etagOf(entry.size, entry.mtimeMs), lastModified: httpDate(entry.mtimeMs), type: contentType(path) };
    while (this.#cache.size >= this.#maxEntries) this.#evict();
    this.#cache.set(path, c);
    return c;
  }

  /** The whole file when it is small enough to keep (read once), else undefined. */
  async #content(path: string, c: Cached): Promise<Uint8Array | undefined> {
    if (c.content !== undefined) return c.content;
    if (c.entry.size > this.#fileBytes) return undefined;
    const data = await this.site.read(path, 0, c.entry.size);
    if (data.length !== c.entry.size) throw new Error(`${path}: read ${data.length} of ${c.entry.size} bytes`);
    while (this.#cachedBytes + data.length > this.#maxBytes && this.#cache.size > 0) this.#evict();
    if (this.#cache.get(path) === c) {
      c.content = data;
      this.#cachedBytes += data.length;
    }
    return data;
  }

  /** Drops the oldest entry (insertion order). */
  #evict(): void {
    const first = this.#cache.entries().next();
    if (first.done === true) return;
    const [k, c] = first.value;
    this.#cache.delete(k);
    this.#cachedBytes -= (c.content?.length ?? 0) + (c.full?.[0]?.length ?? 0) + (c.full?.[1]?.length ?? 0);
  }
}
