import { beforeAll, describe, expect, it } from 'vitest';
import { RamDisk } from '@uk/blkdev';
import { isKernelError } from '@uk/hal';
import type { Vfs } from '@uk/vfs';
import { FatVolume, geometryOf, type Geometry, mkfs, openFat, parseBootSector } from '../src/index.js';
import { OverlayDisk } from './disks.js';
import { pattern } from './tree.js';

/** Corrupted images to try: set UK_FAT_FUZZ_CASES=10000 (or more) for a long run. */
const FUZZ_CASES = Number(process.env.UK_FAT_FUZZ_CASES ?? 1000);

interface Base {
  type: 12 | 16 | 32;
  bytes: Uint8Array;
  geo: Geometry;
}

/** A populated volume: nested directories, long names, a directory of many clusters, multi-cluster files. */
async function makeBase(type: 12 | 16 | 32, blocks: number): Promise<Base> {
  const disk = new RamDisk({ blockCount: blocks });
  await mkfs(disk, { fatType: type, clusterSize: 512, volumeId: 7 });
  const vfs = await openFat(disk);
  await vfs.writeFile('/CHAIN.BIN', pattern(8 * 512, 1));
  await vfs.writeFile('/small.txt', new TextEncoder().encode('small'));
  await vfs.mkdir('/sub/deeper', { recursive: true });
  await vfs.writeFile('/sub/A long name for a file.dat', pattern(3000, 2));
  await vfs.writeFile('/sub/deeper/x.bin', pattern(700, 3));
  for (let i = 0; i < 40; i++) await vfs.writeFile(`/sub/entry number ${i}`, pattern(i * 37, i));
  await vfs.unmountAll();
  const geo = geometryOf(parseBootSector(disk.bytes.subarray(0, 512)), disk.bytes.length);
  return { type, bytes: disk.bytes, geo };
}

let bases: Base[];
beforeAll(async () => {
  bases = [await makeBase(12, 2048), await makeBase(16, 8192), await makeBase(32, 8192)];
});

/** Reads everything, then changes things; returns the error codes met. Any other exception fails. */
async function exercise(vfs: Vfs): Promise<string[]> {
  const codes: string[] = [];
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      if (!isKernelError(e)) throw e;
      codes.push(e.code);
    }
  };
  let seen = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    let entries: Awaited<ReturnType<Vfs['readdir']>> = [];
    await attempt(async () => {
      entries = await vfs.readdir(dir);
    });
    for (const e of entries) {
      if (++seen > 400) return;
      const p = `${dir === '/' ? '' : dir}/${e.name}`;
      if (e.name.includes('/') || e.name === '.' || e.name === '..' || e.name === '') continue;
      if (e.type === 'directory') await walk(p, depth + 1);
      else await attempt(() => vfs.readFile(p));
      await attempt(() => vfs.stat(p));
    }
  };
  await walk('/', 0);
  await attempt(() => vfs.writeFile('/fuzz-new.bin', pattern(5000, 9)));
  await attempt(() => vfs.mkdir('/fuzz dir'));
  await attempt(() => vfs.writeFile('/sub/deeper/appended', pattern(1500, 4)));
  await attempt(() => vfs.rename('/small.txt', '/sub/renamed small.txt'));
  await attempt(() => vfs.unlink('/CHAIN.BIN'));
  await attempt(() => vfs.truncate('/sub/A long name for a file.dat', 100));
  await attempt(() => vfs.rmdir('/sub/deeper'));
  await attempt(() => vfs.unmountAll());
  return codes;
}

async function mountAndExercise(disk: OverlayDisk): Promise<string[]> {
  let vfs: Vfs;
  try {
    vfs = await openFat(disk);
  } catch (e) {
    if (!isKernelError(e)) throw e;
    return [`mount:${e.code}`];
  }
  return exercise(vfs);
}

/** Byte offset of the FAT entry of cluster `c` in the first FAT copy (FAT16/32). */
function fatEntry(b: Base, c: number): number {
  return b.geo.fatOffset + (b.type === 16 ? c * 2 : c * 4);
}

function setFat(disk: OverlayDisk, b: Base, c: number, v: number): void {
  for (let copy = 0; copy < b.geo.numFats; copy++) {
    const at = fatEntry(b, c) + copy * b.geo.fatBytes;
    for (let k = 0; k < (b.type === 16 ? 2 : 4); k++) disk.poke(at + k, (v >>> (8 * k)) & 0xff);
  }
}

/** The root directory's short entry with this 11-byte name: its byte offset. */
function rootEntry(b: Base, name: string): number {
  const start = b.type === 32 ? b.geo.dataOffset : b.geo.rootDirOffset;
  const bytes = b.type === 32 ? b.geo.clusterSize * 4 : b.geo.rootDirBytes;
  for (let o = start; o < start + bytes; o += 32) {
    if (String.fromCharCode(...b.bytes.subarray(o, o + 11)) === name) return o;
  }
  throw new Error(`no entry ${name}`);
}

function firstCluster(b: Base, entry: number): number {
  return b.bytes[entry + 26] | (b.bytes[entry + 27] << 8) | (b.type === 32 ? (b.bytes[entry + 20] << 16) | (b.bytes[entry + 21] << 24) : 0);
}

describe('damaged images give EIO, never a crash or a hang', () => {
  it('rejects boot sectors that describe no usable file system', async () => {
    for (const b of bases) {
      const cases: Array<[string, (d: OverlayDisk) => void]> = [
        ['no signature', (d) => d.poke(510, 0)],
        ['no jump', (d) => d.poke(0, 0)],
        ['0 bytes per sector', (d) => (d.poke(11, 0), d.poke(12, 0))],
        ['3 sectors per cluster', (d) => d.poke(13, 3)],
        ['no FATs', (d) => d.poke(16, 0)],
        ['no reserved sectors', (d) => (d.poke(14, 0), d.poke(15, 0))],
        ['larger than the disk', (d) => (d.peek(19) === 0 && d.peek(20) === 0 ? d.poke(35, 0x7f) : (d.poke(19, 0xff), d.poke(20, 0xff)))],
        ['a FAT too small', (d) => (b.type === 32 ? (d.poke(36, 1), d.poke(37, 0)) : (d.poke(22, 1), d.poke(23, 0)))],
      ];
      for (const [what, damage] of cases) {
        const disk = new OverlayDisk(b.bytes);
        damage(disk);
        const code = await FatVolume.mount(disk).then(
          () => 'mounted',
          (e: { code?: string }) => e.code,
        );
        expect(`FAT${b.type}: ${what}: ${code}`).toBe(`FAT${b.type}: ${what}: EIO`);
      }
    }
  });

  it('finds cluster chains that loop, leave the disk or run into free clusters', async () => {
    for (const b of bases.filter((x) => x.type !== 12)) {
      const entry = rootEntry(b, 'CHAIN   BIN');
      const c = firstCluster(b, entry);
      const damages: Array<[string, (d: OverlayDisk) => void]> = [
        ['a loop', (d) => setFat(d, b, c + 3, c + 1)],
        ['a link past the end', (d) => setFat(d, b, c + 2, b.geo.clusterCount + 50)],
        ['a free cluster inside', (d) => setFat(d, b, c + 4, 0)],
        ['a link to cluster 1', (d) => setFat(d, b, c, 1)],
        ['a first cluster past the end', (d) => (d.poke(entry + 26, 0xff), d.poke(entry + 27, 0xff), b.type === 32 && d.poke(entry + 20, 0x0f))],
        ['a size beyond the chain', (d) => d.poke(entry + 30, 0x10)],
      ];
      for (const [what, damage] of damages) {
        const disk = new OverlayDisk(b.bytes);
        damage(disk);
        const vfs = await openFat(disk, { readOnly: true });
        await expect(vfs.readFile('/CHAIN.BIN'), `FAT${b.type}: ${what}`).rejects.toMatchObject({ code: 'EIO' });
        // The rest of the volume stays usable.
        expect(new TextDecoder().decode(await vfs.readFile('/small.txt'))).toBe('small');
      }
    }
  });

  it('reads past malformed directory entries', async () => {
    const b = bases[1];
    const entry = rootEntry(b, 'SUB        ');
    // A subdirectory without clusters.
    let disk = new OverlayDisk(b.bytes);
    disk.poke(entry + 26, 0);
    disk.poke(entry + 27, 0);
    let vfs = await openFat(disk, { readOnly: true });
    await expect(vfs.readdir('/sub')).rejects.toMatchObject({ code: 'EIO' });
    // A long-name entry whose checksum is wrong: the short name is used instead.
    disk = new OverlayDisk(b.bytes);
    const lfn = rootEntry(b, 'CHAIN   BIN') - 32;
    const slot = b.bytes.subarray(lfn, lfn + 32);
    expect(slot[11]).not.toBe(0x0f);
    const sub = firstCluster(b, entry);
    const subStart = b.geo.dataOffset + (sub - 2) * b.geo.clusterSize;
    let long = -1;
    for (let o = subStart; o < subStart + b.geo.clusterSize; o += 32) if (b.bytes[o + 11] === 0x0f) long = o;
    disk.poke(long + 13, b.bytes[long + 13] ^ 0x55);
    vfs = await openFat(disk, { readOnly: true });
    const names = (await vfs.readdir('/sub')).map((e) => e.name);
    expect(names.length).toBe(42);
    expect(names.some((n) => /~\d/.test(n))).toBe(true);
  });

  it(`survives ${FUZZ_CASES} randomly damaged images`, { timeout: 600_000 }, async () => {
    let seed = 0x1234567;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const outcomes = new Map<string, number>();
    for (let i = 0; i < FUZZ_CASES; i++) {
      const b = bases[i % bases.length];
      const disk = new OverlayDisk(b.bytes);
      const metaEnd = b.geo.dataOffset + 48 * b.geo.clusterSize;
      const hits = 1 + rand(8);
      const how: string[] = [];
      for (let k = 0; k < hits; k++) {
        const kind = rand(4);
        if (kind === 0) {
          const at = rand(512);
          disk.poke(at, rand(256));
          how.push(`boot[${at}]`);
        } else if (kind === 1) {
          const c = 2 + rand(b.geo.clusterCount);
          const specials = [0, 1, c, c + 1, b.geo.clusterCount + 2 + rand(100), 0xffffff7, 0x0ffffff8, rand(0x10000), 2];
          if (b.type === 12) {
            const at = b.geo.fatOffset + c + (c >>> 1);
            disk.poke(at, rand(256));
          } else setFat(disk, b, c, specials[rand(specials.length)] & (b.type === 16 ? 0xffff : 0x0fffffff));
          how.push(`fat[${c}]`);
        } else {
          const at = b.geo.fatOffset + rand(metaEnd - b.geo.fatOffset);
          disk.poke(at, rand(256));
          how.push(`meta[${at}]`);
        }
      }
      let codes: string[];
      // Let the test runner's own messages through now and then: the loop is all microtasks.
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 0));
      const t0 = performance.now();
      try {
        codes = await mountAndExercise(disk);
        const ms = performance.now() - t0;
        if (ms > 200 && process.env.UK_FAT_FUZZ_SLOW) console.log(`slow case ${i} FAT${b.type} ${how.join(' ')} ${ms.toFixed(0)} ms`);
      } catch (e) {
        throw new Error(`case ${i} (FAT${b.type}, ${how.join(' ')}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      for (const c of new Set(codes)) outcomes.set(c, (outcomes.get(c) ?? 0) + 1);
    }
    // Damage was found (EIO) in some cases; no case threw anything but a KernelError.
    expect(outcomes.get('EIO') ?? 0 + (outcomes.get('mount:EIO') ?? 0)).toBeGreaterThan(0);
  });
});
