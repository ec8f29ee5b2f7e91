import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RamFs, Vfs } from '../src/index.js';
import { applyVfs, FsModel, opsArbitrary, snapshotVfs } from './fs-model.js';

const NAMES = ['d', 'e', 'x.txt', 'D', 'long name', 'é'];

describe('ramfs against a model', () => {
  it('agrees on every result, error code and the whole tree after random operations', async () => {
    await fc.assert(
      fc.asyncProperty(opsArbitrary(NAMES, 3000), async (ops) => {
        const vfs = new Vfs();
        await vfs.mount('/', new RamFs());
        const model = new FsModel((n) => n);
        for (const o of ops) {
          const want = model.apply(o);
          const got = await applyVfs(vfs, '', o);
          expect({ o, got }).toEqual({ o, got: want });
        }
        expect(await snapshotVfs(vfs, '')).toEqual(model.snapshot());
      }),
      { numRuns: 200 },
    );
  });
});
