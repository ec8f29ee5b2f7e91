import { KernelError } from '@uk/hal';

/** open(2) flags, with Linux's values. */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;

/** lseek(2) origins. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

/** Flags as numbers, or as fopen-style strings ('r', 'r+', 'w', 'w+', 'wx', 'a', 'a+', 'ax'). */
export type OpenFlags = number | string;

const byString: Record<string, number> = {
  r: O_RDONLY,
  'r+': O_RDWR,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  'w+': O_RDWR | O_CREAT | O_TRUNC,
  wx: O_WRONLY | O_CREAT | O_TRUNC | O_EXCL,
  'wx+': O_RDWR | O_CREAT | O_TRUNC | O_EXCL,
  a: O_WRONLY | O_CREAT | O_APPEND,
  'a+': O_RDWR | O_CREAT | O_APPEND,
  ax: O_WRONLY | O_CREAT | O_APPEND | O_EXCL,
  'ax+': O_RDWR | O_CREAT | O_APPEND | O_EXCL,
};

/** The numeric flags for `flags`; EINVAL for a string that is not one of the fopen modes. */
export function parseOpenFlags(flags: OpenFlags): number {
  if (typeof flags === 'number') {
    if ((flags & O_ACCMODE) === O_ACCMODE) throw new KernelError('EINVAL', `open flags 0o${flags.toString(8)}: the access mode must be O_RDONLY, O_WRONLY or O_RDWR`);
    return flags;
  }
  const n = byString[flags];
  if (n === undefined) throw new KernelError('EINVAL', `open flags "${flags}": use one of ${Object.keys(byString).join(', ')} or O_* numbers`);
  return n;
}
