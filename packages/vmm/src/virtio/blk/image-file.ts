import { close, closeSync, fdatasync, fstatSync, openSync, readv, write, writev } from 'node:fs';
import { DiskError } from './disk-spec.js';

/** Called once an I/O has finished: with the host's error, or null. */
export type IoDone = (err: NodeJS.ErrnoException | null) => void;

/**
 * A raw disk image on the host, used with positional scatter-gather I/O (preadv / pwritev)
 * through libuv's thread pool: the machine's thread never waits for the disk.
 */
export class ImageFile {
  private constructor(
    readonly path: string,
    readonly fd: number,
    readonly size: number,
    readonly readOnly: boolean,
  ) {}

  static open(path: string, readOnly: boolean): ImageFile {
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new DiskError(path, `disk image ${path} cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const size = fstatSync(fd).size;
    return new ImageFile(path, fd, size, readOnly);
  }

  /** Reads exactly the views' bytes from `position`; a short read (the file shrank) is an error. */
  readFully(views: Uint8Array[], position: number, done: IoDone): void {
    readv(this.fd, views, position, (err, n) => {
      if (err !== null) return done(err);
      const want = total(views);
      if (n === want) return done(null);
      if (n === 0) return done(Object.assign(new Error(`unexpected end of file at ${position}`), { code: 'EIO' }));
      this.readFully(advance(views, n), position + n, done);
    });
  }

  /** Writes all the views' bytes at `position` (continuing after a short write). */
  writeFully(views: Uint8Array[], position: number, done: IoDone): void {
    writev(this.fd, views, position, (err, n) => {
      if (err !== null) return done(err);
      if (n === total(views)) return done(null);
      if (n === 0) return done(Object.assign(new Error(`no progress writing at ${position}`), { code: 'EIO' }));
      this.writeFully(advance(views, n), position + n, done);
    });
  }

  /** Writes `count` zero bytes at `position`, a chunk at a time. */
  writeZeroes(position: number, count: number, done: IoDone): void {
    if (count === 0) return done(null);
    const n = Math.min(count, ZEROES.length);
    write(this.fd, ZEROES, 0, n, position, (err, wrote) => {
      if (err !== null) return done(err);
      if (wrote === 0) return done(Object.assign(new Error(`no progress writing at ${position}`), { code: 'EIO' }));
      this.writeZeroes(position + wrote, count - wrote, done);
    });
  }

  /** fdatasync: what the guest's FLUSH waits for. */
  sync(done: IoDone): void {
    fdatasync(this.fd, done);
  }

  close(): Promise<void> {
    return new Promise((resolve) => close(this.fd, () => resolve()));
  }

  closeSync(): void {
    closeSync(this.fd);
  }
}

const ZEROES = new Uint8Array(1 << 20);

function total(views: Uint8Array[]): number {
  let n = 0;
  for (const v of views) n += v.length;
  return n;
}

function advance(views: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const v of views) {
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    out.push(skip > 0 ? v.subarray(skip) : v);
    skip = 0;
  }
  return out;
}
