import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { applyVfs, FsModel, opsArbitrary, snapshotVfs } from '../../vfs/test/fs-model.js';
import { mkfs, openFat } from '../src/index.js';
import { fsckCheck, fsckComplaints, removeDir, saveImage, scratchDir } from './tools.js';

// Names that FAT folds together ('x.txt' / 'X.TXT'), long and non-ASCII ones, 8.3 ones.
const NAMES = ['d', 'e', 'x.txt', 'X.TXT', 'a long name here', 'ünïcödé', 'Mixed.Case', 'd2'];
const RUNS = Number(process.env.UK_FAT_MODEL_RUNS ?? 40);

// Small clusters so that files and directories span many of them.
const KINDS = [
  { type: 12, blocks: 4096, clusterSize: 512 },
  { type: 16, blocks: 20000, clusterSize: 1024 },
  { type: 32, blocks: 67584, clusterSize: 512 },
] as const;

const dir = scratchDir();
afterAll(() => removeDir(dir));

describe.each(KINDS)('FAT$type against a model', ({ type, blocks, clusterSize }) => {
  it('agrees on every result, error code and the whole tree, before and after remounting', { timeout: 60_000 + RUNS * 2_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(opsArbitrary(NAMES, 5000, 50), async (ops) => {
        // Give the test runner's messages a turn: a run is all microtasks and fsck.
        await new Promise((r) => setTimeout(r, 0));
        const disk = new RamDisk({ blockCount: blocks });
        await mkfs(disk, { fatType: type, clusterSize });
        let vfs = await openFat(disk);
        const model = new FsModel((n) => n.toUpperCase());
        for (const o of ops) {
          const want = model.apply(o);
          const got = await applyVfs(vfs, '', o);
          expect({ o, got }).toEqual({ o, got: want });
        }
        expect(await snapshotVfs(vfs, '')).toEqual(model.snapshot());
        await vfs.unmountAll();
        const image = join(dir, `model${type}.img`);
        saveImage(image, disk.bytes);
        expect(fsckComplaints(fsckCheck(image))).toEqual([]);
        vfs = await openFat(disk);
        expect(await snapshotVfs(vfs, '')).toEqual(model.snapshot());
      }),
      { numRuns: RUNS },
    );
  });
});
