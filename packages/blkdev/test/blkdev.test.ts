import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDisk,
  blockDevice,
  crc32,
  diskName,
  formatGuid,
  GptType,
  partitions,
  RamDisk,
  readGpt,
  readMbr,
  readPartitionTable,
  writeZeroesByWriting,
} from '../src/index.js';
import { EFI_SYSTEM, guidBytes, LINUX_FS, writeGpt, writeMbr } from './images.js';

describe('RamDisk', () => {
  it('reads what was written, block by block', async () => {
    const d = new RamDisk({ blockCount: 16 });
    const data = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
    await d.write(3, data);
    const back = new Uint8Array(1024);
    await d.read(3, back);
    expect(back).toEqual(data);
    await d.writeZeroes(4, 1);
    await d.read(3, back);
    expect(back.subarray(512).every((b) => b === 0)).toBe(true);
    expect(back.subarray(0, 512)).toEqual(data.subarray(0, 512));
  });

  it('rejects partial blocks, ranges past the end, and writes to a read-only disk', async () => {
    const d = new RamDisk({ blockCount: 4 });
    await expect(d.read(0, new Uint8Array(100))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(d.read(3, new Uint8Array(1024))).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/past the end/) });
    await expect(d.read(-1, new Uint8Array(512))).rejects.toMatchObject({ code: 'EINVAL' });
    const ro = new RamDisk({ blockCount: 4, readOnly: true });
    await expect(ro.write(0, new Uint8Array(512))).rejects.toMatchObject({ code: 'EROFS' });
    await expect(ro.discard(0, 1)).rejects.toMatchObject({ code: 'EROFS' });
  });

  it('behaves like a byte array under random reads and writes (model check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ write: fc.boolean(), block: fc.integer({ min: 0, max: 40 }), count: fc.integer({ min: 0, max: 8 }), seed: fc.integer() }), { maxLength: 30 }),
        async (ops) => {
          const d = new RamDisk({ blockCount: 32, blockSize: 1024 });
          const model = new Uint8Array(32 * 1024);
          for (const op of ops) {
            const buf = Uint8Array.from({ length: op.count * 1024 }, (_, i) => (op.seed + i * 7) & 0xff);
            const fits = op.block + op.count <= 32;
            if (op.write) {
              const p = d.write(op.block, buf);
              if (!fits) await expect(p).rejects.toMatchObject({ code: 'EINVAL' });
              else {
                await p;
                model.set(buf, op.block * 1024);
              }
            } else if (fits) {
              await d.read(op.block, buf);
              expect(buf).toEqual(model.subarray(op.block * 1024, (op.block + op.count) * 1024));
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('zeroes by writing where a device has no write-zeroes command', async () => {
    const d = new RamDisk({ blockCount: 300 });
    d.bytes.fill(0xaa);
    await writeZeroesByWriting(d, 10, 280, 64);
    expect(d.bytes.subarray(10 * 512, 290 * 512).every((b) => b === 0)).toBe(true);
    expect(d.bytes[10 * 512 - 1]).toBe(0xaa);
    expect(d.bytes[290 * 512]).toBe(0xaa);
  });
});

describe('disk names', () => {
  it('counts vda..vdz, vdaa.. as Linux does', () => {
    expect([0, 1, 25, 26, 27, 701, 702].map((i) => diskName(i))).toEqual(['vda', 'vdb', 'vdz', 'vdaa', 'vdab', 'vdzz', 'vdaaa']);
  });

  it('registers disks under the first free name and finds them again', () => {
    const table = new Map<string, Map<string, unknown>>();
    const ctx = {
      addDevice(kind: string, name: string, dev: unknown) {
        const t = table.get(kind) ?? new Map();
        t.set(name, dev);
        table.set(kind, t);
      },
      devices<T>(kind: string) {
        return (table.get(kind) ?? new Map()) as ReadonlyMap<string, T>;
      },
    };
    const a = new RamDisk({ blockCount: 1 });
    const b = new RamDisk({ blockCount: 1 });
    expect(addDisk(ctx, a)).toBe('vda');
    expect(addDisk(ctx, b)).toBe('vdb');
    expect(blockDevice(ctx, 'vdb')).toBe(b);
    expect(() => blockDevice(ctx, 'vdz')).toThrow(/no block device named vdz \(there are: vda, vdb\)/);
  });
});

describe('MBR', () => {
  it('reads primary and logical partitions', async () => {
    const d = new RamDisk({ blockCount: 2048 });
    writeMbr(d.bytes, [
      { type: 0x0c, first: 2, count: 100, boot: true },
      { type: 0x05, first: 200, count: 1000 },
      { type: 0x83, first: 1500, count: 500 },
    ]);
    // Two logical partitions: EBR at 200 -> 201..300, next EBR at 200+400 -> 601..700.
    writeMbr(d.bytes, [{ type: 0x83, first: 1, count: 100 }, { type: 0x05, first: 400, count: 200 }], 200 * 512);
    writeMbr(d.bytes, [{ type: 0x82, first: 1, count: 100 }], 600 * 512);
    const t = await readMbr(d);
    expect(t.scheme).toBe('mbr');
    expect(t.diskId).toBe('12345678');
    expect(t.partitions.map((p) => [p.number, p.firstBlock, p.blockCount, p.type])).toEqual([
      [1, 2, 100, '0x0c'],
      [3, 1500, 500, '0x83'],
      [5, 201, 100, '0x83'],
      [6, 601, 100, '0x82'],
    ]);
    expect(t.partitions[0].bootable).toBe(true);
  });

  it('exposes partitions as block devices confined to their blocks', async () => {
    const d = new RamDisk({ blockCount: 64 });
    writeMbr(d.bytes, [{ type: 0x83, first: 8, count: 16 }]);
    const [p] = await partitions(d);
    expect(p.blockCount).toBe(16);
    await p.write(0, new Uint8Array(512).fill(7));
    expect(d.bytes[8 * 512]).toBe(7);
    await expect(p.write(16, new Uint8Array(512))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(p.read(15, new Uint8Array(1024))).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('calls a table that points past the disk, overlaps or loops corrupt (EIO)', async () => {
    const past = new RamDisk({ blockCount: 64 });
    writeMbr(past.bytes, [{ type: 0x83, first: 8, count: 100 }]);
    await expect(readMbr(past)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/past the end of the disk/) });

    const overlap = new RamDisk({ blockCount: 64 });
    writeMbr(overlap.bytes, [{ type: 0x83, first: 8, count: 10 }, { type: 0x83, first: 12, count: 10 }]);
    await expect(readMbr(overlap)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/overlap/) });

    const loop = new RamDisk({ blockCount: 64 });
    writeMbr(loop.bytes, [{ type: 0x05, first: 10, count: 40 }]);
    writeMbr(loop.bytes, [{ type: 0x83, first: 1, count: 2 }, { type: 0x05, first: 0, count: 40 }], 10 * 512);
    await expect(readMbr(loop)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/loops/) });
  });

  it('sees no table on a blank disk or on a file system boot sector', async () => {
    const blank = new RamDisk({ blockCount: 8 });
    expect(await readPartitionTable(blank)).toBeUndefined();
    const fat = new RamDisk({ blockCount: 8 });
    fat.bytes.set([0xeb, 0x3c, 0x90], 0);
    fat.bytes[446] = 0x29; // not a boot flag: part of a FAT boot sector
    fat.bytes[510] = 0x55;
    fat.bytes[511] = 0xaa;
    expect(await readPartitionTable(fat)).toBeUndefined();
  });

  it('never throws anything but EIO on random bytes in block 0 and in EBRs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.uint8Array({ minLength: 512, maxLength: 512 }), async (b0, b1) => {
        const d = new RamDisk({ blockCount: 64 });
        d.bytes.set(b0, 0);
        d.bytes.set(b1, 512);
        d.bytes[510] = 0x55;
        d.bytes[511] = 0xaa;
        for (let i = 0; i < 4; i++) d.bytes[446 + 16 * i] &= 0x80;
        try {
          const t = await readPartitionTable(d);
          for (const p of t?.partitions ?? []) expect(p.firstBlock + p.blockCount).toBeLessThanOrEqual(64);
        } catch (e) {
          expect(e).toMatchObject({ code: 'EIO' });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('GPT', () => {
  it('checks CRC-32 against its reference value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('prints GUIDs in mixed-endian form', () => {
    expect(formatGuid(guidBytes(GptType.LinuxFilesystem))).toBe(GptType.LinuxFilesystem);
  });

  for (const blockSize of [512, 4096]) {
    it(`reads entries, names and the disk GUID (${blockSize}-byte blocks)`, async () => {
      const d = new RamDisk({ blockCount: blockSize === 512 ? 4096 : 512, blockSize });
      writeGpt(d.bytes, blockSize, [
        { type: EFI_SYSTEM, first: 40, last: 99, name: 'EFI' },
        { type: LINUX_FS, first: 100, last: 300, name: 'root' },
      ]);
      const t = await readPartitionTable(d);
      expect(t?.scheme).toBe('gpt');
      expect(t?.diskId).toBe('11111111-2222-3333-4444-555555555555');
      expect(t?.partitions.map((p) => [p.number, p.firstBlock, p.blockCount, p.type, p.name])).toEqual([
        [1, 40, 60, GptType.EfiSystem, 'EFI'],
        [2, 100, 201, GptType.LinuxFilesystem, 'root'],
      ]);
    });
  }

  it('falls back to the backup header when the primary is damaged, and fails when both are', async () => {
    const d = new RamDisk({ blockCount: 1024 });
    writeGpt(d.bytes, 512, [{ type: LINUX_FS, first: 40, last: 99 }]);
    d.bytes[512 + 30] ^= 0xff; // primary header's MyLBA: CRC now fails
    expect((await readGpt(d)).partitions).toHaveLength(1);
    d.bytes[1023 * 512 + 30] ^= 0xff;
    await expect(readGpt(d)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/CRC mismatch.*backup header is bad too/) });
  });

  it('rejects entries outside the usable area, and entry arrays that fail their CRC', async () => {
    const d = new RamDisk({ blockCount: 1024 });
    writeGpt(d.bytes, 512, [{ type: LINUX_FS, first: 10, last: 99 }]);
    await expect(readGpt(d)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/outside the usable area/) });
    const e = new RamDisk({ blockCount: 1024 });
    writeGpt(e.bytes, 512, [{ type: LINUX_FS, first: 40, last: 99 }]);
    e.bytes[2 * 512 + 40] ^= 1;
    e.bytes[(1023 - 32) * 512 + 40] ^= 1;
    await expect(readGpt(e)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/fails its CRC/) });
  });

  it('never throws anything but EIO on damaged headers (random bytes with valid CRCs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 92, maxLength: 92 }), async (junk) => {
        const d = new RamDisk({ blockCount: 256 });
        writeGpt(d.bytes, 512, [{ type: LINUX_FS, first: 40, last: 99 }]);
        const h = d.bytes.subarray(512, 1024);
        h.set(junk.subarray(12), 12);
        h.set(new TextEncoder().encode('EFI PART'));
        const v = new DataView(h.buffer, h.byteOffset, 512);
        v.setUint32(12, 92, true);
        v.setUint32(16, 0, true);
        v.setUint32(16, crc32(h.subarray(0, 92)), true);
        d.bytes.fill(0, 255 * 512); // no backup
        try {
          const t = await readGpt(d);
          for (const p of t.partitions) expect(p.firstBlock + p.blockCount).toBeLessThanOrEqual(256);
        } catch (e) {
          expect(e).toMatchObject({ code: 'EIO' });
        }
      }),
      { numRuns: 300 },
    );
  });
});
