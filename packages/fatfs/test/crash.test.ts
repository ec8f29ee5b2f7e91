import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import type { Vfs } from '@uk/vfs';
import { O_CREAT, O_RDWR, O_WRONLY } from '@uk/vfs';
import { mkfs, openFat } from '../src/index.js';
import { CuttableDisk } from './disks.js';
import { fsckCheck, fsckRepair, loadImage, removeDir, saveImage, scratchDir } from './tools.js';
import { pattern, sha } from './tree.js';

/** Power cuts per FAT type: UK_FAT_CRASH_TRIALS=200 for a long run. */
const TRIALS = Number(process.env.UK_FAT_CRASH_TRIALS ?? 10);

const dir = scratchDir();
afterAll(() => removeDir(dir));

/**
 * A write workload: files written in pieces, some fsynced (and never touched again), others
 * appended to, truncated, renamed and deleted, directories made and removed. Returns the
 * files whose fsync reached the disk before the power went, with their hashes.
 */
async function workload(vfs: Vfs, disk: CuttableDisk, seed: number): Promise<Map<string, string>> {
  let x = seed;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const synced = new Map<string, string>();
  const loose: string[] = [];
  const dirs = ['/w0', '/w1', '/w2'];
  for (const d of dirs) await vfs.mkdir(d);
  for (let step = 0; step < 60; step++) {
    const r = rand(10);
    if (r < 5) {
      const path = `${dirs[rand(dirs.length)]}/file ${step} with a long name.bin`;
      const size = rand(3) === 0 ? rand(40_000) : rand(3000);
      const data = pattern(size, seed * 1000 + step);
      const fd = await vfs.open(path, O_CREAT | O_WRONLY);
      for (let at = 0; at < size; at += 4096) await vfs.write(fd, data.subarray(at, Math.min(size, at + 4096)));
      if (rand(2) === 0) {
        const before = disk.flushes;
        await vfs.fsync(fd);
        if (disk.flushes > before) synced.set(path, sha(data));
      } else {
        loose.push(path);
      }
      await vfs.close(fd);
    } else if (r === 5 && loose.length > 0) {
      const path = loose[rand(loose.length)];
      const fd = await vfs.open(path, O_RDWR);
      await vfs.pwrite(fd, pattern(rand(9000), step), rand(5000));
      await vfs.close(fd);
    } else if (r === 6 && loose.length > 0) {
      const i = rand(loose.length);
      await vfs.unlink(loose[i]);
      loose.splice(i, 1);
    } else if (r === 7 && loose.length > 0) {
      const i = rand(loose.length);
      const to = `${dirs[rand(dirs.length)]}/moved ${step}.dat`;
      await vfs.rename(loose[i], to);
      loose[i] = to;
    } else if (r === 8 && loose.length > 0) {
      await vfs.truncate(loose[rand(loose.length)], rand(2000));
    } else {
      const d = `${dirs[rand(dirs.length)]}/sub${step}`;
      await vfs.mkdir(d);
      if (rand(2) === 0) await vfs.rmdir(d);
    }
  }
  return synced;
}

describe.each([
  { type: 12 as const, blocks: 4096 },
  { type: 16 as const, blocks: 8400 },
  { type: 32 as const, blocks: 32768 },
])('a power cut during writes on FAT$type', ({ type, blocks }) => {
  it(`leaves an image fsck.fat repairs, with every fsynced byte intact (${TRIALS} cuts)`, { timeout: 3_600_000 }, async () => {
    const base = new RamDisk({ blockCount: blocks });
    await mkfs(base, { fatType: type, clusterSize: 512, volumeId: 42 });
    // How many block writes the whole workload makes, to cut somewhere inside it.
    const full = new CuttableDisk(base.bytes.slice(), Number.POSITIVE_INFINITY);
    await workload(await openFat(full), full, 1);
    let checked = 0;
    for (let t = 0; t < TRIALS; t++) {
      await new Promise((r) => setTimeout(r, 0));
      const budget = Math.floor(((t + 0.5) / TRIALS) * full.written);
      const disk = new CuttableDisk(base.bytes.slice(), budget);
      const synced = await workload(await openFat(disk), disk, 1);
      const image = join(dir, `crash${type}-${t}.img`);
      saveImage(image, disk.bytes);
      const repair = fsckRepair(image);
      expect({ t, budget, status: repair.status < 2 }).toEqual({ t, budget, status: true });
      const after = fsckCheck(image);
      expect({ t, budget, status: after.status, output: after.output.includes('Dirty bit') }).toEqual({ t, budget, status: 0, output: false });
      const vfs = await openFat(loadImage(image), { readOnly: true });
      for (const [path, hash] of synced) {
        expect({ t, budget, path, hash: sha(await vfs.readFile(path)) }).toEqual({ t, budget, path, hash });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
