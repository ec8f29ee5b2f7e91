import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { openFat, mkfs } from '../src/index.js';
import { fsckCheck, fsckComplaints, loadImage, mcopy, mcopyOut, mdirAll, mdirRoot, mkfsFat, mtype, removeDir, saveImage, scratchDir } from './tools.js';
import { interopTree, readVfsTree, summary, writeHostTree, writeVfsTree } from './tree.js';

const MiB = 1024 * 1024;

/** One image per FAT type that holds the 10 MiB file: FAT12 needs big clusters to reach 16 MiB. */
const KINDS = [
  { type: 12, bytes: 32 * MiB, args: ['-F', '12', '-s', '32'] },
  { type: 16, bytes: 32 * MiB, args: ['-F', '16'] },
  { type: 32, bytes: 64 * MiB, args: ['-F', '32'] },
] as const;

let dir: string;
let hostTree: string;
const tree = interopTree();

beforeAll(() => {
  dir = scratchDir();
  hostTree = join(dir, 'tree');
  writeHostTree(hostTree, tree);
});
afterAll(() => removeDir(dir));

describe.each(KINDS)('FAT$type made by mkfs.fat and mcopy', ({ type, bytes, args }) => {
  let image: string;
  beforeAll(() => {
    image = join(dir, `fat${type}.img`);
    mkfsFat(image, bytes, [...args]);
    mcopy(image, [...new Set([...tree.keys()].map((p) => join(hostTree, p.split('/')[0])))], '/');
  });

  it('reads every name and byte that mtools wrote', async () => {
    const vfs = await openFat(loadImage(image), { readOnly: true });
    expect(summary(await readVfsTree(vfs, '/'))).toEqual(summary(tree));
    const st = await vfs.stat('/big.bin');
    expect(st.size).toBe(10 * MiB);
    expect(vfs.mounts()[0].type).toBe('vfat');
  });

  it('finds names without regard to case, and by their short names', async () => {
    const vfs = await openFat(loadImage(image), { readOnly: true });
    expect(new TextDecoder().decode(await vfs.readFile('/LOWER.TXT'))).toBe('lower\n');
    expect(new TextDecoder().decode(await vfs.readFile('/upper.txt'))).toBe('upper\n');
    expect(new TextDecoder().decode(await vfs.readFile('/ALONGF~1.TEX'))).toBe('long\n');
    expect(new TextDecoder().decode(await vfs.readFile('/DIR1/SUB DIR/DEEPER/FILE.TXT'))).toBe('deep\n');
  });

  it('writes a tree that fsck.fat finds clean and mtools reads back byte for byte', async () => {
    const bytesOut = loadImage(image).slice();
    const vfs = await openFat(bytesOut);
    await writeVfsTree(vfs, '/copy', tree);
    await vfs.rename('/copy/one.bin', '/copy/dir1/renamed one.bin');
    await vfs.unlink('/copy/many/file number 7.dat');
    await vfs.rmdir('/copy/empty dir');
    await vfs.unmountAll();
    const out = join(dir, `fat${type}-written.img`);
    saveImage(out, bytesOut);
    const r = fsckCheck(out);
    expect(fsckComplaints(r)).toEqual([]);
    expect(r.status).toBe(0);
    const listed = mdirAll(out);
    expect(listed).toContain('::/copy/dir1/renamed one.bin');
    expect(listed).toContain('::/copy/日本語のファイル名.txt');
    expect(listed).toContain('::/copy/dir1/sub dir/Привет мир.md');
    expect(listed).not.toContain('::/copy/one.bin');
    expect(mtype(out, '/copy/dir1/sub dir/deeper/file.txt').toString()).toBe('deep\n');
    expect(mcopyOut(out, '/copy/big.bin', dir).equals(Buffer.from(tree.get('big.bin') as Uint8Array))).toBe(true);
    expect(mcopyOut(out, '/copy/four-k.bin', dir).equals(Buffer.from(tree.get('four-k.bin') as Uint8Array))).toBe(true);
    expect(mcopyOut(out, '/copy/dir1/renamed one.bin', dir)).toEqual(Buffer.from([0x5a]));
    expect(mcopyOut(out, '/copy/empty.txt', dir).length).toBe(0);
  });
});

describe('mkfs', () => {
  it.each(KINDS)('formats FAT$type so that fsck.fat is content and mtools can use it', async ({ type, bytes }) => {
    const disk = new RamDisk({ blockCount: bytes / 512 });
    const params = await mkfs(disk, { fatType: type, label: 'UK DISK', volumeId: 0x1234abcd });
    expect(params.type).toBe(type);
    const vfs = await openFat(disk);
    await writeVfsTree(vfs, '/', new Map([...tree].filter(([p]) => !p.startsWith('many/'))));
    await vfs.unmountAll();
    const out = join(dir, `mkfs${type}.img`);
    saveImage(out, disk.bytes);
    const r = fsckCheck(out);
    expect(fsckComplaints(r)).toEqual([]);
    expect(r.status).toBe(0);
    expect(mdirRoot(out)).toContain('Volume in drive : is UK DISK');
    expect(mtype(out, '/naïve café.txt').toString()).toBe('accents\n');
    expect(mcopyOut(out, '/big.bin', dir).equals(Buffer.from(tree.get('big.bin') as Uint8Array))).toBe(true);
  });
});
