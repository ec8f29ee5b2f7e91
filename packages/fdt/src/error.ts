/** What went wrong with a blob, a property value or a lookup. */
export type FdtErrorCode =
  | 'FDT_TRUNCATED'
  | 'FDT_BAD_MAGIC'
  | 'FDT_BAD_VERSION'
  | 'FDT_BAD_OFFSET'
  | 'FDT_BAD_STRING'
  | 'FDT_BAD_TOKEN'
  | 'FDT_BAD_STRUCTURE'
  | 'FDT_BAD_PROPERTY'
  | 'FDT_NOT_FOUND';

/**
 * The only exception this package throws. `offset` is the byte offset in the blob where the
 * problem was found, when there is one; the message says what and where.
 */
export class FdtError extends Error {
  readonly code: FdtErrorCode;
  readonly offset?: number;

  constructor(code: FdtErrorCode, message: string, offset?: number) {
    super(offset === undefined ? `${code}: ${message}` : `${code}: ${message} (at byte offset 0x${offset.toString(16)})`);
    this.name = 'FdtError';
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}

export function isFdtError(e: unknown, code?: FdtErrorCode): e is FdtError {
  return e instanceof FdtError && (code === undefined || e.code === code);
}
