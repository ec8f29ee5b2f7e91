/**
 * Errors that kernel components report. `code` is a POSIX name so that callers can
 * branch on it and people recognise it; `message` says what happened and what to do.
 */
/** The POSIX error names a {@link KernelError} carries. */
export type ErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'EBADF'
  | 'EROFS'
  | 'ENOSPC'
  | 'EINVAL'
  | 'ELOOP'
  | 'ENAMETOOLONG'
  | 'EIO'
  | 'ENOMEM'
  | 'EFAULT'
  | 'EBUSY'
  | 'EAGAIN'
  | 'ENODEV'
  | 'ENOSYS'
  | 'ENOTSUP'
  | 'ETIMEDOUT'
  | 'ECANCELED'
  | 'EDEADLK'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ECONNABORTED'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'ENOTCONN'
  | 'EISCONN'
  | 'EPIPE'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'EMSGSIZE'
  | 'ERANGE'
  | 'EPERM'
  | 'EACCES'
  | 'EXDEV'
  | 'EFBIG'
  | 'ESPIPE'
  | 'EMFILE';

/** An error of a kernel component: `code` to branch on, `message` for a person (prefixed with the code). */
export class KernelError extends Error {
  constructor(
    /** The POSIX name of the error, e.g. `'ENOENT'`. */
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'KernelError';
  }
}

/** Whether `e` is a KernelError (of `code`, when given); also true for one from another copy of this package. */
export function isKernelError(e: unknown, code?: ErrorCode): e is KernelError {
  return e instanceof Error && typeof (e as KernelError).code === 'string' && (code === undefined || (e as KernelError).code === code);
}
