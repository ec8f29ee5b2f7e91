import type { Site, SiteEntry } from '../src/http/site.js';

/** A document root in memory: paths to contents; directories are implied by the paths. */
export class MapSite implements Site {
  reads = 0;
  constructor(
    private readonly files: Record<string, Uint8Array | string>,
    private readonly mtimeMs = Date.UTC(2024, 0, 2, 3, 4, 5),
  ) {}

  #bytes(p: string): Uint8Array | undefined {
    const f = this.files[p];
    return typeof f === 'string' ? Buffer.from(f) : f;
  }

  async stat(path: string): Promise<SiteEntry | undefined> {
    const f = this.#bytes(path);
    if (f !== undefined) return { type: 'file', size: f.length, mtimeMs: this.mtimeMs };
    const prefix = path === '/' ? '/' : `${path}/`;
    if (Object.keys(this.files).some((k) => k.startsWith(prefix))) return { type: 'directory', size: 0, mtimeMs: this.mtimeMs };
    return undefined;
  }

  async read(path: string, position: number, length: number): Promise<Uint8Array> {
    this.reads++;
    const f = this.#bytes(path);
    if (f === undefined) throw new Error(`${path}: no such file`);
    return f.slice(position, position + length);
  }

  async list(path: string): Promise<Array<{ name: string; entry: SiteEntry }>> {
    const prefix = path === '/' ? '/' : `${path}/`;
    const names = new Set<string>();
    for (const k of Object.keys(this.files)) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
    const out: Array<{ name: string; entry: SiteEntry }> = [];
    for (const n of names) out.push({ name: n, entry: (await this.stat(prefix + n)) as SiteEntry });
    return out;
  }
}

/** A response split into status, fields (lower-case names) and body. */
export function parseResponse(bytes: Uint8Array): { status: number; fields: Record<string, string>; body: Buffer } {
  const b = Buffer.from(bytes);
  const end = b.indexOf('\r\n\r\n');
  const head = b.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const fields: Record<string, string> = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    fields[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, fields, body: b.subarray(end + 4) };
}
