import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteWord } from '../../../packages/boot/src/index.js';
import { buildApp, findApp } from '../../../packages/cli/src/index.js';
import { Machine, readImage, virtioBlkDevice } from '../../../packages/vmm/src/index.js';

// The app booted on the VMM with a virtio-blk disk, in both execution modes: images made by
// mkfs.fat and mcopy are read by the guest, and what the guest writes passes fsck.fat and
// reads back through mtools.

const appDir = fileURLToPath(new URL('..', import.meta.url));

function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${name} is not installed (dosfstools, mtools)`);
}
const mtoolsEnv = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8' };

let work: string;
let imagePath: string;
beforeAll(async () => {
  work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'uk-fsdemo-'));
  imagePath = (await buildApp(findApp(appDir), join(work, 'build'))).imagePath;
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'Photos 2024/Summer holiday'), { recursive: true });
  writeFileSync(join(tree, 'README.TXT'), 'read me\n');
  writeFileSync(join(tree, 'empty'), '');
  writeFileSync(join(tree, 'one byte'), 'x');
  writeFileSync(join(tree, 'Photos 2024/Summer holiday/Café à la plage.txt'), 'soleil\n');
  const big = new Uint8Array(3 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
  writeFileSync(join(tree, 'big.bin'), big);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeDisk(name: string, bytes: number, args: string[]): string {
  const disk = join(work, name);
  writeFileSync(disk, '');
  truncateSync(disk, bytes);
  execFileSync(tool('mkfs.fat'), [...args, disk], { stdio: 'pipe' });
  const tree = join(work, 'tree');
  execFileSync(tool('mcopy'), ['-i', disk, '-s', '-Q', join(tree, 'README.TXT'), join(tree, 'empty'), join(tree, 'one byte'), join(tree, 'Photos 2024'), join(tree, 'big.bin'), '::/'], { env: mtoolsEnv, stdio: 'pipe' });
  return disk;
}

async function boot(mode: 'inline' | 'isolated', disk: string, args: string[]): Promise<{ status: number; text: string }> {
  let text = '';
  const bootargs = ['--', 'fsdemo', ...args].map((w) => (w === '--' ? w : quoteWord(w))).join(' ');
  const r = await new Machine({
    image: readImage(imagePath),
    mode,
    bootargs,
    timeoutMs: 60_000,
    devices: [virtioBlkDevice(disk)],
    output: (b) => {
      text += new TextDecoder().decode(b);
    },
  }).run();
  return { status: r.exitCode, text };
}

describe.each(['inline', 'isolated'] as const)('fsdemo on the VMM in %s mode', (mode) => {
  it.each([
    [12, 8 * 1024 * 1024, ['-F', '12']],
    [16, 16 * 1024 * 1024, ['-F', '16']],
    [32, 40 * 1024 * 1024, ['-F', '32']],
  ] as const)('reads a FAT%d disk made by mkfs.fat and mcopy, and writes one fsck.fat and mtools accept', async (type, bytes, args) => {
    const disk = makeDisk(`fat${type}-${mode}.img`, bytes, [...args]);
    const r = await boot(mode, disk, [
      'tree', '/data', ';',
      'cat', '/data/Photos 2024/Summer holiday/Café à la plage.txt', ';',
      'crc', '/data/big.bin', ';',
      'cp', '/data/big.bin', '/data/Photos 2024/copy of big.bin', ';',
      'mkdir', '/data/Nouveau dossier', ';',
      'write', '/data/Nouveau dossier/Hello, World.txt', 'written', 'by', 'the', 'guest', ';',
      'mv', '/data/README.TXT', '/data/Nouveau dossier', ';',
      'rm', '/data/one byte', ';',
      'ls', '/data',
    ]);
    expect(r.text).toContain(`fatfs: vda: FAT${type}`);
    expect(r.text).toContain('Café à la plage.txt (7 bytes)');
    expect(r.text).toContain('empty (0 bytes)');
    expect(r.text).toContain('soleil');
    expect(r.text).toContain('copied 3145851 bytes');
    expect(r.status).toBe(0);
    const fsck = spawnSync(tool('fsck.fat'), ['-n', disk], { encoding: 'utf8' });
    expect(fsck.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('fsck.fat') && !/\d+ files, \d+\/\d+ clusters/.test(l))).toEqual([]);
    expect(fsck.status).toBe(0);
    const mtype = (p: string) => execFileSync(tool('mtype'), ['-i', disk, `::${p}`], { env: mtoolsEnv, maxBuffer: 64 << 20 });
    expect(mtype('/Nouveau dossier/Hello, World.txt').toString()).toBe('written by the guest\n');
    expect(mtype('/Nouveau dossier/README.TXT').toString()).toBe('read me\n');
    expect(mtype('/Photos 2024/copy of big.bin').equals(mtype('/big.bin'))).toBe(true);
    const listed = spawnSync(tool('mdir'), ['-i', disk, '-/', '-b', '::/'], { env: mtoolsEnv, encoding: 'utf8' }).stdout;
    expect(listed).not.toContain('one byte');
  });
});
