import { isKernelError } from '@uk/hal';
import type { Vfs } from '@uk/vfs';
import type { Site, SiteEntry } from '../http/site.js';

/** The document root `root` of the kernel's VFS as a Site; symbolic links are followed. */
export class VfsSite implements Site {
  constructor(
    private readonly vfs: Vfs,
    private readonly root: string,
  ) {}

  #path(p: string): string {
    return p === '/' ? this.root : `${this.root === '/' ? '' : this.root}${p}`;
  }

  async stat(path: string): Promise<SiteEntry | undefined> {
    try {
      const s = await this.vfs.stat(this.#path(path));
      if (s.type !== 'file' && s.type !== 'directory') return undefined;
      return { type: s.type, size: s.size, mtimeMs: s.mtimeMs };
    } catch (e) {
      if (isKernelError(e, 'ENOENT') || isKernelError(e, 'ENOTDIR') || isKernelError(e, 'ENAMETOOLONG') || isKernelError(e, 'ELOOP') || isKernelError(e, 'EINVAL')) return undefined;
      throw e;
    }
  }

  async read(path: string, position: number, length: number): Promise<Uint8Array> {
    const fd = await this.vfs.open(this.#path(path));
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = await this.vfs.pread(fd, out.subarray(done), position + done);
        if (n === 0) break;
        done += n;
      }
      return done === length ? out : out.subarray(0, done);
    } finally {
      await this.vfs.close(fd);
    }
  }

  async list(path: string): Promise<Array<{ name: string; entry: SiteEntry }>> {
    const dir = this.#path(path);
    const names = await this.vfs.readdir(dir);
    const out: Array<{ name: string; entry: SiteEntry }> = [];
    // A listing is bounded: a directory of a million names is not a page anyone reads.
    for (const d of names.slice(0, 4096)) {
      const entry = await this.stat(`${path === '/' ? '' : path}/${d.name}`);
      if (entry !== undefined) out.push({ name: d.name, entry });
    }
    return out;
  }
}
