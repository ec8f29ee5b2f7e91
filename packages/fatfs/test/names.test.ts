import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { chooseFormat, chooseShortName, displayShortName, fromDosStamp, mkfs, openFat, parseBootSector, shortNameChecksum, toDosStamp } from '../src/index.js';
import { fsckCheck, fsckComplaints, mdirAll, mkfsFat, removeDir, saveImage, scratchDir } from './tools.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const show = (n: Uint8Array) => String.fromCharCode(...n);
const none = () => false;

function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  const b = new Uint8Array(512);
  readSync(fd, b, 0, 512, 0);
  closeSync(fd);
  return b;
}

describe('short names', () => {
  it('keeps 8.3 names, with the NT case bits for lower case', () => {
    expect(chooseShortName('README.TXT', none)).toMatchObject({ ntRes: 0, needsLong: false });
    expect(show(chooseShortName('README.TXT', none).name)).toBe('README  TXT');
    expect(chooseShortName('readme.txt', none)).toMatchObject({ ntRes: 0x18, needsLong: false });
    expect(chooseShortName('readme.TXT', none)).toMatchObject({ ntRes: 0x08, needsLong: false });
    const mixed = chooseShortName('ReadMe.txt', none);
    expect(mixed.needsLong).toBe(true);
    expect(show(mixed.name)).toBe('README  TXT');
    expect(displayShortName(ascii('README  TXT'), 0x18)).toBe('readme.txt');
    expect(displayShortName(ascii('FOO        '), 0)).toBe('FOO');
  });

  it('makes basis names with numeric tails, then hashed tails', () => {
    const taken = new Set<string>();
    const pick = (long: string) => {
      const c = chooseShortName(long, (k) => taken.has(k));
      taken.add(show(c.name));
      return show(c.name);
    };
    expect(pick('A long file name.text')).toBe('ALONGF~1TEX');
    expect(pick('A long file name 2.text')).toBe('ALONGF~2TEX');
    expect(pick('A long file name 3.text')).toBe('ALONGF~3TEX');
    expect(pick('A long file name 4.text')).toBe('ALONGF~4TEX');
    const fifth = pick('A long file name 5.text');
    expect(fifth).toMatch(/^AL[0-9A-F]{4}~1TEX$/);
    expect(pick('.bashrc')).toBe('BASHRC~1   ');
    expect(pick('naïve café.txt')).toBe('NA_VEC~1TXT');
    expect(pick('日本語.txt')).toBe('___~1   TXT');
    expect(pick('a+b=c[1].txt')).toBe('A_B_C_~1TXT');
  });

  it('computes the long-name checksum of the specification', () => {
    // Checksums as mtools writes them for these short names (seen in its images).
    expect(shortNameChecksum(ascii('MIXED   TXT'))).toBe(0x46);
    expect(shortNameChecksum(ascii('ALONGN~1TEX'))).toBe(0xbd);
  });
});

describe('timestamps', () => {
  it('round-trips in 2-second steps, with 10 ms for creation times', () => {
    const t = Date.UTC(2024, 1, 29, 13, 37, 43, 250);
    const s = toDosStamp(t);
    expect(fromDosStamp(s.date, s.time)).toBe(Date.UTC(2024, 1, 29, 13, 37, 42));
    expect(fromDosStamp(s.date, s.time, s.tenths)).toBe(t);
    expect(fromDosStamp(toDosStamp(0).date, 0)).toBe(Date.UTC(1980, 0, 1));
    expect(fromDosStamp(0, 0)).toBe(0);
  });
});

describe('mkfs chooses as mkfs.fat does', () => {
  const dir = scratchDir();
  afterAll(() => removeDir(dir));
  const KiB = 1024;
  const MiB = 1024 * KiB;
  it.each([360 * KiB, 1440 * KiB, 2 * MiB, 4 * MiB, 8 * MiB, 9 * MiB, 32 * MiB, 100 * MiB, 200 * MiB, 300 * MiB, 600 * MiB, 1024 * MiB])(
    'for %d bytes: the same FAT type, cluster size and root directory',
    (bytes) => {
      const path = join(dir, 'ref.img');
      mkfsFat(path, bytes);
      const theirs = parseBootSector(readHead(path));
      const ours = chooseFormat(bytes);
      const type = theirs.fat32Layout ? 32 : (theirs.totalSectors - theirs.reservedSectors - 2 * theirs.fatSize - (theirs.rootEntries * 32) / 512) / theirs.sectorsPerCluster <= 4084 ? 12 : 16;
      expect({ type: ours.type, spc: ours.sectorsPerCluster, root: ours.rootEntries, media: ours.media }).toEqual({
        type,
        spc: theirs.sectorsPerCluster,
        root: theirs.rootEntries,
        media: theirs.media,
      });
    },
  );

  it('formats volumes that fsck.fat accepts as they are, at many sizes', async () => {
    for (const bytes of [64 * KiB, 360 * KiB, 1440 * KiB, 4 * MiB, 8200 * KiB, 8300 * KiB, 20 * MiB]) {
      const disk = new RamDisk({ blockCount: bytes / 512 });
      await mkfs(disk, { volumeId: 1 });
      const path = join(dir, 'ours.img');
      saveImage(path, disk.bytes);
      expect({ bytes, complaints: fsckComplaints(fsckCheck(path)) }).toEqual({ bytes, complaints: [] });
    }
  });

  it('refuses what cannot be made', async () => {
    expect(() => chooseFormat(1 * MiB, { fatType: 16 })).toThrow(/use FAT12/);
    expect(() => chooseFormat(4 * MiB, { clusterSize: 3000 })).toThrow(/cluster size/);
    await expect(mkfs(new RamDisk({ blockCount: 100, readOnly: true }))).rejects.toMatchObject({ code: 'EROFS' });
    await expect(mkfs(new RamDisk({ blockCount: 8192 }), { label: 'way too long a label' })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('names beyond what mtools handles', () => {
  it('stores characters outside the BMP as UTF-16 surrogate pairs, and fsck.fat accepts them', async () => {
    const dir = scratchDir();
    try {
      const disk = new RamDisk({ blockCount: 8192 });
      await mkfs(disk);
      const vfs = await openFat(disk);
      const name = 'party 🎉 time 😀.txt';
      await vfs.writeFile(`/${name}`, ascii('yay'));
      await vfs.unmountAll();
      const again = await openFat(disk);
      expect((await again.readdir('/')).map((e) => e.name)).toEqual([name]);
      const path = join(dir, 'emoji.img');
      saveImage(path, disk.bytes);
      expect(fsckComplaints(fsckCheck(path))).toEqual([]);
      expect(mdirAll(path).length).toBe(1);
    } finally {
      removeDir(dir);
    }
  });
});
