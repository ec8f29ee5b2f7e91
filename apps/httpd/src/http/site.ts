/** A file or directory of the document root, as the handler needs it. */
export interface SiteEntry {
  readonly type: 'file' | 'directory';
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * The document root as the HTTP handler sees it: paths are absolute within the root
 * ('/', '/css/site.css'), already normalised. The VFS stands behind it in the kernel; the
 * tests put a map there.
 */
export interface Site {
  /** undefined when nothing is there. */
  stat(path: string): Promise<SiteEntry | undefined>;
  /** Up to `length` bytes from `position` (fewer only at the end of the file). */
  read(path: string, position: number, length: number): Promise<Uint8Array>;
  /** The names in a directory, with what each is. */
  list(path: string): Promise<Array<{ name: string; entry: SiteEntry }>>;
}
