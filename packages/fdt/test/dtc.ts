// The real dtc (Debian package device-tree-compiler), for interop tests. Tests that need it
// run only when it is installed, and say so when it is not.
import { spawnSync } from 'node:child_process';

function probe(): string | undefined {
  const r = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/** e.g. "DTC 1.6.1", or undefined when dtc is not installed. */
export const dtcVersion = probe();
export const hasDtc = dtcVersion !== undefined;
/** dtc 1.6 prints dtb-derived values by one guess per property; later versions split lists. */
export const dtcPrintsLike16 = dtcVersion !== undefined && /\b1\.6\./.test(dtcVersion);

if (!hasDtc) {
  console.warn('@uk/fdt: dtc is not installed (apt-get install device-tree-compiler); the tests that compare with dtc are not run.');
}

export interface DtcRun {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runDtc(args: string[], input: Uint8Array | string): DtcRun {
  const r = spawnSync('dtc', args, { input });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** dts source → dtb bytes; throws with dtc's messages when it fails. */
export function dtsToDtb(dts: string, extra: string[] = []): Uint8Array {
  const r = runDtc(['-q', '-I', 'dts', '-O', 'dtb', ...extra], dts);
  if (r.status !== 0) throw new Error(`dtc -I dts -O dtb failed (${r.status}): ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

/** dtb bytes → dtc's dts text and what it printed on stderr. */
export function dtbToDts(dtb: Uint8Array): { dts: string; stderr: string; status: number | null } {
  const r = runDtc(['-I', 'dtb', '-O', 'dts'], dtb);
  return { dts: r.stdout.toString('utf8'), stderr: r.stderr, status: r.status };
}
