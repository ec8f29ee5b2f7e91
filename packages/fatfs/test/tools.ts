import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** dosfstools and mtools, found on PATH or where Debian puts them (/usr/sbin is not on every PATH). */
export function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not installed: install dosfstools and mtools (apt-get install dosfstools mtools)`);
}

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '', LC_ALL: 'C.UTF-8' };

/** A scratch directory, in memory (/dev/shm) where there is one: images are large and short-lived. */
export function scratchDir(prefix = 'uk-fat-'): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A sparse file of `bytes`, formatted by mkfs.fat with `args` (e.g. ['-F', '32']). */
export function mkfsFat(path: string, bytes: number, args: string[] = []): void {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  execFileSync(tool('mkfs.fat'), [...args, path], { stdio: 'pipe' });
}

/** Copies host files or directories into the image (mcopy -s). */
export function mcopy(image: string, from: string[], to: string): void {
  execFileSync(tool('mcopy'), ['-i', image, '-s', '-Q', ...from, `::${to}`], { env: MTOOLS_ENV, stdio: 'pipe' });
}

export function mmd(image: string, dir: string): void {
  execFileSync(tool('mmd'), ['-i', image, `::${dir}`], { env: MTOOLS_ENV, stdio: 'pipe' });
}

/** A file's bytes as mtools reads them. */
export function mtype(image: string, path: string): Buffer {
  return execFileSync(tool('mtype'), ['-i', image, `::${path}`], { env: MTOOLS_ENV, stdio: 'pipe', maxBuffer: 256 * 1024 * 1024 });
}

/** Copies a file out of the image with mcopy, returning its bytes. */
export function mcopyOut(image: string, path: string, dir: string): Buffer {
  const out = join(dir, 'mcopy-out');
  rmSync(out, { force: true });
  execFileSync(tool('mcopy'), ['-i', image, '-n', `::${path}`, out], { env: MTOOLS_ENV, stdio: 'pipe' });
  return readFileSync(out);
}

/** `mdir -/ -b`: every path in the image, as mtools lists it. */
export function mdirAll(image: string): string[] {
  const r = spawnSync(tool('mdir'), ['-i', image, '-/', '-b', '::/'], { env: MTOOLS_ENV, encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** `mdir ::/` as text (volume label, names, sizes). */
export function mdirRoot(image: string): string {
  return spawnSync(tool('mdir'), ['-i', image, '::/'], { env: MTOOLS_ENV, encoding: 'utf8' }).stdout;
}

export interface FsckResult {
  status: number;
  output: string;
}

/** fsck.fat -n (check only): status 0 and no complaint when the volume is sound. */
export function fsckCheck(image: string): FsckResult {
  const r = spawnSync(tool('fsck.fat'), ['-n', '-V', image], { encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** fsck.fat -a (repair automatically). */
export function fsckRepair(image: string): FsckResult {
  const r = spawnSync(tool('fsck.fat'), ['-a', '-w', image], { encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** What fsck.fat says beyond its banner and summary: empty for a clean volume. */
export function fsckComplaints(r: FsckResult): string[] {
  return r.output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^fsck\.fat \d/.test(l) && !/^Checking we can access the last sector/.test(l) && !/^Starting check\/repair pass\./.test(l) && !/^Starting verification pass\./.test(l) && !/: \d+ files?, \d+\/\d+ clusters$/.test(l));
}

/** A file's bytes as a Uint8Array view of the image file, for @uk/fatfs (writes go to memory only). */
export function loadImage(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function saveImage(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
}
