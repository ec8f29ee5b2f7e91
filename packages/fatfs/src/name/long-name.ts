import { KernelError } from '@uk/hal';
import { LFN_CHARS } from '../layout/dir-entry.js';

/** The longest long name, in UTF-16 units (Microsoft FAT specification, §7). */
export const MAX_LONG_NAME = 255;

/** Characters a long name may not hold, besides controls (§7.1). */
const FORBIDDEN = '"*/:<>?\\|';

/**
 * Checks a name for a new entry: ENAMETOOLONG past 255 units; EINVAL for control
 * characters, the characters Windows forbids, and a trailing dot or space (which Windows
 * would strip, so the name could not be found again under the name given).
 */
export function checkLongName(name: string): void {
  if (name.length === 0) throw new KernelError('EINVAL', 'an empty name');
  if (name.length > MAX_LONG_NAME) throw new KernelError('ENAMETOOLONG', `a FAT name is at most ${MAX_LONG_NAME} characters; "${name.slice(0, 40)}..." has ${name.length}`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || FORBIDDEN.includes(name[i])) {
      throw new KernelError('EINVAL', `"${name}": FAT names cannot hold ${c < 0x20 || c === 0x7f ? `control character 0x${c.toString(16)}` : `"${name[i]}"`}`);
    }
  }
  const last = name[name.length - 1];
  if (last === '.' || last === ' ') throw new KernelError('EINVAL', `"${name}": FAT names cannot end with a dot or a space`);
}

/** The name's UTF-16 units. */
export function toUnits(name: string): Uint16Array {
  const u = new Uint16Array(name.length);
  for (let i = 0; i < name.length; i++) u[i] = name.charCodeAt(i);
  return u;
}

/** Long-name entries a name takes. */
export function longEntryCount(name: string): number {
  return Math.ceil(name.length / LFN_CHARS);
}
