import { accessSync, constants, statSync } from 'node:fs';
import { SECTOR_SIZE } from '@uk/virtio-spec';

/** A disk given to the machine cannot be used; the message names the file and what to do. */
export class DiskError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'DiskError';
  }
}

export interface DiskSpec {
  /** A raw disk image: a regular file whose size is a whole number of 512-byte sectors. */
  readonly path: string;
  /** The guest may read but not write (VIRTIO_BLK_F_RO; writes fail with IOERR). */
  readonly readOnly?: boolean;
  /** What VIRTIO_BLK_T_GET_ID answers (at most 20 bytes). */
  readonly serial?: string;
  /** Entries of the request queue the device offers (default 256). */
  readonly queueSize?: number;
}

/** Parses the `--disk` syntax: `path[,ro]` (also `,rw`, `,readonly`, `,serial=ID`). */
export function parseDiskSpec(spec: string): DiskSpec {
  const parts = spec.split(',');
  const path = parts[0].trim();
  if (path === '') throw new DiskError(spec, `--disk ${spec || '""'}: no file given; use --disk PATH or --disk PATH,ro`);
  let readOnly = false;
  let serial: string | undefined;
  for (const raw of parts.slice(1)) {
    const opt = raw.trim();
    if (opt === 'ro' || opt === 'readonly') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt.startsWith('serial=')) serial = opt.slice('serial='.length);
    else throw new DiskError(path, `--disk ${spec}: unknown option "${opt}"; the options are ro, rw and serial=ID`);
  }
  return { path, readOnly, serial };
}

/**
 * Checks a disk image before boot; returns its size in bytes. Missing, not a regular file,
 * empty, not whole sectors, or not writable when it should be: a DiskError saying so.
 */
export function checkDiskImage(spec: DiskSpec): number {
  const { path } = spec;
  const q = spec.queueSize;
  if (q !== undefined && !(Number.isInteger(q) && q >= 4 && q <= 32768 && (q & (q - 1)) === 0)) {
    throw new DiskError(path, `disk ${path}: queue size ${q} must be a power of two from 4 to 32768`);
  }
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DiskError(path, `disk image ${path} does not exist; create one first, e.g. \`truncate -s 64M ${path}\``);
    throw new DiskError(path, `disk image ${path} cannot be read (${code ?? (e as Error).message}); check the path and its permissions`);
  }
  if (st.isDirectory()) throw new DiskError(path, `disk image ${path} is a directory; give a raw image file, e.g. made by \`truncate -s 64M disk.img\``);
  if (!st.isFile()) throw new DiskError(path, `disk image ${path} is not a regular file; give a raw image file`);
  if (st.size === 0) throw new DiskError(path, `disk image ${path} is empty; give it a size, e.g. \`truncate -s 64M ${path}\``);
  if (st.size % SECTOR_SIZE !== 0) {
    const up = Math.ceil(st.size / SECTOR_SIZE) * SECTOR_SIZE;
    throw new DiskError(path, `disk image ${path} is ${st.size} bytes, not a whole number of ${SECTOR_SIZE}-byte sectors; pad it, e.g. \`truncate -s ${up} ${path}\``);
  }
  try {
    accessSync(path, spec.readOnly ? constants.R_OK : constants.R_OK | constants.W_OK);
  } catch {
    throw new DiskError(path, spec.readOnly ? `disk image ${path} is not readable; check its permissions` : `disk image ${path} is not writable; fix its permissions or attach it read-only (--disk ${path},ro)`);
  }
  return st.size;
}
