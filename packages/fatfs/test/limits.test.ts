import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { isKernelError } from '@uk/hal';
import { O_CREAT, O_RDWR } from '@uk/vfs';
import { mkfs, openFat } from '../src/index.js';
import { fsckCheck, fsckComplaints, removeDir, saveImage, scratchDir } from './tools.js';
import { pattern, sha } from './tree.js';

const dir = scratchDir();
afterAll(() => removeDir(dir));

function clean(disk: RamDisk, name: string): string[] {
  const path = join(dir, name);
  saveImage(path, disk.bytes);
  return fsckComplaints(fsckCheck(path));
}

describe('a full disk', () => {
  it.each([12, 16] as const)('gives ENOSPC on FAT%d and damages nothing written before', async (type) => {
    const disk = new RamDisk({ blockCount: type === 12 ? 512 : 4400 });
    await mkfs(disk, { fatType: type, clusterSize: 512 });
    const vfs = await openFat(disk);
    const written = new Map<string, string>();
    await vfs.mkdir('/d');
    let n = 0;
    let err: unknown;
    for (;;) {
      const data = pattern(700 + ((n * 131) % 3000), n + 1);
      try {
        await vfs.writeFile(`/d/f${n}.bin`, data);
        written.set(`/d/f${n}.bin`, sha(data));
        n++;
      } catch (e) {
        err = e;
        break;
      }
    }
    expect(isKernelError(err, 'ENOSPC')).toBe(true);
    expect(n).toBeGreaterThan(10);
    // The file that did not fit was made but holds nothing; an append to a full disk fails whole.
    expect((await vfs.stat(`/d/f${n}.bin`)).size).toBe(0);
    const fd = await vfs.open('/d/f0.bin', O_RDWR);
    const before = (await vfs.fstat(fd)).size;
    await expect(vfs.pwrite(fd, pattern(100_000, 5), before)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect((await vfs.fstat(fd)).size).toBe(before);
    await vfs.close(fd);
    // Take the last clusters one by one; then not even a directory fits.
    await expect(
      (async () => {
        for (let i = 0; ; i++) await vfs.writeFile(`/d/last${i}`, new Uint8Array(512));
      })(),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(vfs.mkdir('/more')).rejects.toMatchObject({ code: 'ENOSPC' });
    for (const [p, h] of written) expect(sha(await vfs.readFile(p))).toBe(h);
    // Deleting makes room again (after the flush that frees quarantined clusters).
    await vfs.unlink('/d/f1.bin');
    await vfs.unlink('/d/f2.bin');
    await vfs.writeFile('/after.bin', pattern(600, 99));
    await vfs.unmountAll();
    expect(clean(disk, `full${type}.img`)).toEqual([]);
    const again = await openFat(disk);
    expect(sha(await again.readFile('/d/f0.bin'))).toBe(written.get('/d/f0.bin'));
    expect(sha(await again.readFile('/after.bin'))).toBe(sha(pattern(600, 99)));
  });

  it('fills the fixed root directory of FAT16 and says so', async () => {
    const disk = new RamDisk({ blockCount: 8400 });
    await mkfs(disk, { fatType: 16, rootEntries: 32, clusterSize: 512 });
    const vfs = await openFat(disk);
    let made = 0;
    await expect(
      (async () => {
        for (;;) {
          await vfs.writeFile(`/F${made}.TXT`, new Uint8Array(1));
          made++;
        }
      })(),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(made).toBe(32);
    await vfs.mkdir('/sub', { recursive: true }).catch(() => {});
    await vfs.unmountAll();
    expect(clean(disk, 'rootfull.img')).toEqual([]);
  });

  it('grows a directory over many clusters, with thousands of names', async () => {
    const disk = new RamDisk({ blockCount: 70000 });
    await mkfs(disk, { fatType: 32, clusterSize: 512 });
    const vfs = await openFat(disk);
    await vfs.mkdir('/many');
    for (let i = 0; i < 3000; i++) await vfs.writeFile(`/many/a file with a long name ${i}.txt`, new TextEncoder().encode(String(i)));
    for (let i = 0; i < 3000; i += 3) await vfs.unlink(`/many/a file with a long name ${i}.txt`);
    for (let i = 0; i < 500; i++) await vfs.writeFile(`/many/n${i}`, new Uint8Array(0));
    expect((await vfs.readdir('/many')).length).toBe(2500);
    expect(new TextDecoder().decode(await vfs.readFile('/many/A FILE WITH A LONG NAME 2999.TXT'))).toBe('2999');
    await vfs.unmountAll();
    expect(clean(disk, 'many.img')).toEqual([]);
  });
});

describe('POSIX corners on FAT', () => {
  it('keeps an unlinked file readable while open and frees it at close', async () => {
    const disk = new RamDisk({ blockCount: 4400 });
    await mkfs(disk, { fatType: 16, clusterSize: 512 });
    const vfs = await openFat(disk);
    const free0 = (await vfs.statfs('/')).freeBlocks;
    await vfs.writeFile('/doomed', pattern(5000, 1));
    const fd = await vfs.open('/doomed', O_RDWR);
    await vfs.unlink('/doomed');
    expect(await vfs.exists('/doomed')).toBe(false);
    const back = new Uint8Array(5000);
    expect(await vfs.pread(fd, back, 0)).toBe(5000);
    expect(sha(back)).toBe(sha(pattern(5000, 1)));
    await vfs.writeFile('/doomed', new Uint8Array(3));
    await vfs.close(fd);
    await vfs.unlink('/doomed');
    await vfs.unmountAll();
    expect(clean(disk, 'unlinked.img')).toEqual([]);
    const again = await openFat(disk);
    expect((await again.statfs('/')).freeBlocks).toBe(free0);
  });

  it('renames over files and empty directories, moves directories, and changes case', async () => {
    const disk = new RamDisk({ blockCount: 4400 });
    await mkfs(disk, { fatType: 16, clusterSize: 512 });
    const vfs = await openFat(disk);
    await vfs.mkdir('/a/b/c', { recursive: true });
    await vfs.writeFile('/a/b/c/file', new Uint8Array([1, 2, 3]));
    await vfs.mkdir('/empty');
    await vfs.rename('/a/b', '/empty');
    expect([...(await vfs.readFile('/empty/c/file'))]).toEqual([1, 2, 3]);
    expect((await vfs.readdir('/empty/c/..')).map((e) => e.name)).toEqual(['c']);
    await vfs.rename('/empty', '/Empty');
    expect((await vfs.readdir('/')).map((e) => e.name).sort()).toEqual(['Empty', 'a']);
    await vfs.writeFile('/x', new Uint8Array([9]));
    await vfs.rename('/x', '/Empty/c/file');
    expect([...(await vfs.readFile('/EMPTY/C/FILE'))]).toEqual([9]);
    await expect(vfs.symlink('/x', '/link')).rejects.toMatchObject({ code: 'EPERM' });
    await expect(vfs.writeFile('/bad:name', new Uint8Array(1))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(vfs.writeFile('/trailing.', new Uint8Array(1))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(vfs.writeFile(`/${'x'.repeat(256)}`, new Uint8Array(1))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    const fd = await vfs.open('/sparse', O_CREAT | O_RDWR);
    await vfs.pwrite(fd, new Uint8Array([7]), 10_000);
    const all = new Uint8Array(10_001);
    await vfs.pread(fd, all, 0);
    expect(all.subarray(0, 10_000).every((b) => b === 0)).toBe(true);
    expect(all[10_000]).toBe(7);
    await vfs.close(fd);
    const st = await vfs.stat('/sparse');
    expect(Math.abs(st.mtimeMs - Date.now())).toBeLessThan(5000);
    await vfs.utimes('/sparse', Date.UTC(2001, 0, 2), Date.UTC(2002, 3, 4, 5, 6, 8));
    expect((await vfs.stat('/sparse')).mtimeMs).toBe(Date.UTC(2002, 3, 4, 5, 6, 8));
    await vfs.unmountAll();
    expect(clean(disk, 'corners.img')).toEqual([]);
  });

  it('mounts read-only devices read-only', async () => {
    const disk = new RamDisk({ blockCount: 4400 });
    await mkfs(disk);
    const ro = await openFat(new RamDisk({ bytes: disk.bytes, readOnly: true }));
    expect(ro.mounts()[0].readOnly).toBe(true);
    await expect(ro.writeFile('/x', new Uint8Array(1))).rejects.toMatchObject({ code: 'EROFS' });
  });
});
