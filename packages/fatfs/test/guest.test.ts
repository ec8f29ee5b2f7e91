import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../cli/src/index.js';
import { Machine, readImage, virtioBlkDevice } from '../../vmm/src/index.js';
import { fsckCheck, fsckComplaints, mdirAll, removeDir, scratchDir, tool } from './tools.js';

// mkfs, mount, write and unmount inside a guest on the VMM; fsck.fat and mtools judge the disk.
const fixture = fileURLToPath(new URL('./fixtures/format-in-guest', import.meta.url));
const dir = scratchDir('uk-fat-guest-');
let image: string;
beforeAll(async () => {
  image = (await buildApp(findApp(fixture), join(dir, 'build'))).imagePath;
}, 120_000);
afterAll(() => removeDir(dir));

describe.each(['inline', 'isolated'] as const)('a guest in %s mode', (mode) => {
  it.each([
    [12, 8 << 20],
    [16, 24 << 20],
    [32, 48 << 20],
  ] as const)('formats a FAT%d disk that fsck.fat accepts and mtools reads', async (type, bytes) => {
    const disk = join(dir, `guest${type}-${mode}.img`);
    writeFileSync(disk, '');
    truncateSync(disk, bytes);
    let text = '';
    const r = await new Machine({
      image: readImage(image),
      mode,
      bootargs: `-- format ${type}`,
      timeoutMs: 60_000,
      devices: [virtioBlkDevice(disk)],
      output: (b) => {
        text += new TextDecoder().decode(b);
      },
    }).run();
    expect(text).toContain(`formatted FAT${type}`);
    expect(r.exitCode).toBe(0);
    expect(fsckComplaints(fsckCheck(disk))).toEqual([]);
    const names = mdirAll(disk);
    expect(names).toContain('::/Répertoire/sous dossier/lisez-moi.txt');
    expect(names.filter((n) => n.startsWith('::/Répertoire/file ')).length).toBe(50);
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8' };
    expect(execFileSync(tool('mtype'), ['-i', disk, '::/Répertoire/sous dossier/lisez-moi.txt'], { env }).toString()).toBe('bonjour\n');
    const big = execFileSync(tool('mtype'), ['-i', disk, '::/big file.bin'], { env, maxBuffer: 8 << 20 });
    expect(big.length).toBe(1536 * 1024);
    expect(big.every((b, i) => b === ((i * 13) & 0xff))).toBe(true);
    expect(execFileSync(tool('mdir'), ['-i', disk, '::/'], { env }).toString()).toContain('Volume in drive : is GUEST');
  });
});
