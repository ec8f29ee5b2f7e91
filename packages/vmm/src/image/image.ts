import { readFileSync, statSync } from 'node:fs';

/** The first bytes of every image `uk build` writes. */
export const IMAGE_MAGIC = '/*uk-image 1*/';
/**
 * The variable an image's script assigns its kernel to. The machine declares it in a function
 * around the script, so no global is left behind.
 */
export const IMAGE_GLOBAL = '__ukImage';

export class ImageError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface Image {
  readonly path: string;
  readonly code: string;
  readonly bytes: Uint8Array;
}

/** Reads and checks an image file; every way it can be wrong gets a message naming the file. */
export function readImage(path: string): Image {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new ImageError(path, `${path} is a directory, expected an image file made by \`uk build\` (name.uk.js)`);
    size = st.size;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(path, `${path} does not exist: expected an image file made by \`uk build\` (name.uk.js)`);
  }
  if (size === 0) throw new ImageError(path, `${path} is empty: expected an image file made by \`uk build\` (name.uk.js)`);
  const bytes = new Uint8Array(readFileSync(path));
  return imageFromBytes(path, bytes);
}

export function imageFromBytes(path: string, bytes: Uint8Array): Image {
  const head = new TextDecoder().decode(bytes.subarray(0, IMAGE_MAGIC.length));
  if (head !== IMAGE_MAGIC) {
    throw new ImageError(path, `${path} is not a uk image: it does not start with ${IMAGE_MAGIC}; build one with \`uk build <app>\``);
  }
  return { path, bytes, code: new TextDecoder().decode(bytes) };
}

/** What an image exports: the entry the machine calls, as a0/a1 firmware hands over. */
export interface ImageEntry {
  start(cpu: unknown, boot: { hartId: number; dtb: number }): Promise<void>;
}

export function entryOf(exports: unknown, path: string): ImageEntry {
  const mod = exports as { default?: unknown } | undefined;
  const entry = (mod?.default ?? mod) as Partial<ImageEntry> | undefined;
  if (entry === undefined || entry === null || typeof entry.start !== 'function') {
    throw new ImageError(path, `${path} has no kernel entry: its default export must be kernel({...}) from @uk/boot`);
  }
  return entry as ImageEntry;
}

/**
 * The image's script wrapped so that its exports come back as the value of the expression
 * and leave no global behind.
 */
export function wrapImage(code: string): string {
  return `(function(){var ${IMAGE_GLOBAL};${code}\n;return ${IMAGE_GLOBAL};})()`;
}
