import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmioTransport, VirtioMmioDevice } from '../../virtio/src/index.js';
import { fakeMachine, SLOT_BASE } from '../../virtio/test/fake-machine.js';
import { virtioBlkDevice, type VirtioMmioModel } from '../../vmm/src/index.js';
import { VirtioBlkDevice, type VirtioBlkOptions } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'uk-blkdrv-'));
let n = 0;

/** Byte equality without vitest's element-by-element diffing, which is slow on large arrays. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (Math.imul(i + seed, 0x9e3779b1) >>> 24) & 0xff);
}

/** A virtio-blk driver on a fake machine whose slot 0 holds the VMM's virtio-blk over a temp file. */
async function disk(bytes: number, opts: { ro?: boolean; serial?: string; driver?: VirtioBlkOptions; fill?: Uint8Array } = {}) {
  const path = join(tmp, `d${n++}.img`);
  writeFileSync(path, opts.fill ?? new Uint8Array(bytes));
  const slot = virtioBlkDevice({ path, readOnly: opts.ro, serial: opts.serial }, { log: () => {} });
  const m = fakeMachine([slot]);
  const dev = new VirtioMmioDevice({ cpu: m.cpu, dma: m.dma, irq: m.irq }, new MmioTransport(m.cpu.mmio, SLOT_BASE), 1);
  const blk = await VirtioBlkDevice.start(dev, opts.driver);
  return { path, blk, m, slot, model: slot.model as VirtioMmioModel, file: () => new Uint8Array(readFileSync(path)) };
}

describe('VirtioBlkDevice', () => {
  it('reports the geometry and features the device offers', async () => {
    const { blk } = await disk(1 << 20, { serial: 'abc' });
    expect([blk.blockSize, blk.blockCount, blk.readOnly, blk.canDiscard, blk.canWriteZeroes, blk.hasFlush]).toEqual([512, 2048, false, true, true, true]);
    expect(blk.queueDepth).toBe(256);
    expect(await blk.serial()).toBe('abc');
  });

  it('reads the serial number right while other requests wait for its slot', async () => {
    // One request in flight: the serial's slot, and its bounce buffer, go to a waiting read
    // the moment the device answers.
    const fill = new Uint8Array(1 << 20).fill(0x5a);
    const { blk } = await disk(1 << 20, { serial: 'serial-0123', driver: { maxInFlight: 1 }, fill });
    const reads = Array.from({ length: 8 }, (_, i) => blk.read(i * 8, new Uint8Array(4096)));
    const [id] = await Promise.all([blk.serial(), ...reads]);
    expect(id).toBe('serial-0123');
    for (const r of await Promise.all(Array.from({ length: 4 }, () => blk.serial()))) expect(r).toBe('serial-0123');
  });

  it('writes and reads back, and the image file holds exactly what was written', async () => {
    const { blk, file } = await disk(1 << 20);
    const data = pattern(64 * 1024, 1);
    await blk.write(100, data);
    await blk.flush();
    expect(same(file().subarray(100 * 512, 100 * 512 + data.length), data)).toBe(true);
    const back = new Uint8Array(data.length);
    await blk.read(100, back);
    expect(same(back, data)).toBe(true);
    expect(file().subarray(0, 100 * 512).every((b) => b === 0)).toBe(true);
  });

  it('splits transfers larger than one request and keeps many in flight', async () => {
    const { blk, file, m } = await disk(4 << 20, { driver: { queueSize: 8, maxTransfer: 16 * 1024 } });
    expect(blk.queueDepth).toBe(8);
    const big = pattern(1 << 20, 7);
    await blk.write(0, big);
    const jobs: Promise<void>[] = [];
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const b = new Uint8Array(4096);
      reads.push(b);
      jobs.push(blk.read(i * 16, b));
    }
    await Promise.all(jobs);
    expect(same(file().subarray(0, 1 << 20), big)).toBe(true);
    reads.forEach((b, i) => expect(same(b, big.subarray(i * 16 * 512, i * 16 * 512 + 4096))).toBe(true));
    expect(blk.requestQueue.inFlight).toBe(0);
    expect(blk.stats.requests).toBe(64 + 100);
    // Interrupts are coalesced: fewer than one per request.
    expect(blk.stats.interrupts).toBeLessThan(blk.stats.requests);
    expect(m.dma.live).toBeGreaterThan(0);
  });

  it('passes a buffer that is a view of RAM to the device without a bounce copy', async () => {
    const { blk, m, file } = await disk(1 << 20);
    const view = m.cpu.ram.bytes.subarray(0x1000, 0x1000 + 8192);
    view.set(pattern(8192, 3));
    await blk.write(8, view);
    expect(blk.stats.bounced).toBe(0);
    expect(file().subarray(8 * 512, 8 * 512 + 8192)).toEqual(pattern(8192, 3));
    view.fill(0);
    await blk.read(8, view);
    expect(view).toEqual(pattern(8192, 3));
    expect(blk.stats.bounced).toBe(0);
  });

  it('refuses writes to a read-only disk (EROFS) and still reads it', async () => {
    const fill = pattern(8192, 5);
    const { blk, file } = await disk(8192, { ro: true, fill });
    expect(blk.readOnly).toBe(true);
    await expect(blk.write(0, new Uint8Array(512))).rejects.toMatchObject({ code: 'EROFS' });
    await expect(blk.writeZeroes(0, 1)).rejects.toMatchObject({ code: 'EROFS' });
    const b = new Uint8Array(8192);
    await blk.read(0, b);
    expect(b).toEqual(fill);
    expect(file()).toEqual(fill);
  });

  it('checks ranges before they reach the device', async () => {
    const { blk } = await disk(8192);
    await expect(blk.read(15, new Uint8Array(1024))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(blk.write(0, new Uint8Array(100))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(blk.discard(10, 10)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('zeroes with WRITE_ZEROES and discards', async () => {
    const { blk, file } = await disk(64 * 512, { fill: new Uint8Array(64 * 512).fill(0xee) });
    await blk.writeZeroes(4, 8);
    await blk.discard(20, 4);
    const f = file();
    expect(f.subarray(4 * 512, 12 * 512).every((b) => b === 0)).toBe(true);
    expect(f[4 * 512 - 1]).toBe(0xee);
    expect(f[12 * 512]).toBe(0xee);
  });

  it('turns a device error into EIO', async () => {
    const { blk, path } = await disk(64 * 512);
    // The image shrinks behind the device's back: reads past its new end fail on the host.
    truncateSync(path, 8 * 512);
    await expect(blk.read(32, new Uint8Array(512))).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/read at sector 32 failed: the device reported an I\/O error/) });
    const ok = new Uint8Array(512);
    await blk.read(0, ok);
  });

  it('fails what is in flight with EIO after DEVICE_NEEDS_RESET, resets the device and goes on', async () => {
    const { blk, model, m } = await disk(1 << 20);
    const jobs = Array.from({ length: 20 }, (_, i) => blk.read(i * 8, new Uint8Array(4096)).then(
      () => 'ok',
      (e: { code: string }) => e.code,
    ));
    // The device breaks while those are on their way.
    model.fault('a test broke the device');
    const outcomes = await Promise.all(jobs);
    expect(outcomes.some((o) => o === 'EIO')).toBe(true);
    expect(outcomes.every((o) => o === 'EIO' || o === 'ok')).toBe(true);
    await m.settle();
    expect(blk.stats.resets).toBe(1);
    const data = pattern(4096, 9);
    await blk.write(0, data);
    const back = new Uint8Array(4096);
    await blk.read(0, back);
    expect(back).toEqual(data);
  });
});
