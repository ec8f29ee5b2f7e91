import type { Fdt } from '../tree/fdt.js';

/**
 * What the boot loader (or VMM) chose: /chosen's `bootargs` and `stdout-path` (or the older
 * `linux,stdout-path`). Absent values are left out; a malformed one throws FDT_BAD_PROPERTY.
 */
export function chosen(fdt: Fdt): { bootargs?: string; stdoutPath?: string } {
  const node = fdt.root.child('chosen');
  const out: { bootargs?: string; stdoutPath?: string } = {};
  if (node === undefined) return out;
  const bootargs = node.prop('bootargs');
  if (bootargs !== undefined) out.bootargs = bootargs.string();
  const stdout = node.prop('stdout-path') ?? node.prop('linux,stdout-path');
  if (stdout !== undefined) out.stdoutPath = stdout.string();
  return out;
}
