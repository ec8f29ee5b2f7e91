import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../cli/src/index.js';
import { type ExecutionMode, Machine, readImage, type SlotDevice, virtioBlkDevice } from '../../vmm/src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'uk-blkapp-'));
const fixture = fileURLToPath(new URL('./fixtures/blkapp', import.meta.url));
const runner = fileURLToPath(new URL('./fixtures/run-machine.mjs', import.meta.url));
let imagePath = '';

beforeAll(async () => {
  imagePath = (await buildApp(findApp(fixture), tmp)).imagePath;
});

/** The guest's pattern (fixtures/blkapp/src/kernel.ts): byte at disk offset o. */
function patternByte(seed: number, o: number): number {
  return (Math.imul(o ^ seed, 0x9e3779b1) >>> 23) & 0xff;
}

function diskFile(name: string, bytes: number, fill = 0): string {
  const path = join(tmp, name);
  writeFileSync(path, new Uint8Array(bytes).fill(fill));
  return path;
}

async function boot(mode: ExecutionMode, bootargs: string, devices: SlotDevice[]) {
  let output = '';
  const result = await new Machine({
    image: readImage(imagePath),
    mode,
    bootargs,
    devices,
    timeoutMs: 30_000,
    output: (b) => {
      output += new TextDecoder().decode(b);
    },
  }).run();
  return { result, output };
}

function firstMismatch(file: Uint8Array, seed: number, bytes: number): number {
  for (let o = 0; o < bytes; o++) if (file[o] !== patternByte(seed, o)) return o;
  return -1;
}

describe.each(['inline', 'isolated'] as const)('a guest with a virtio disk (%s mode)', (mode) => {
  it('writes and reads the disk, and the host file holds exactly the bytes written', async () => {
    const path = diskFile(`rw-${mode}.img`, 3 << 20, 0xcc);
    const blocks = 4096;
    const { result, output } = await boot(mode, `blkapp rw 77 ${blocks}`, [virtioBlkDevice(path)]);
    expect(output).toMatch(/virtio-blk: vda: 3\.0 MiB in 512-byte blocks, 256 requests in flight/);
    expect(output).toMatch(/rw ok blocks=4096/);
    expect(result).toMatchObject({ reason: 'poweroff', exitCode: 0 });
    const file = new Uint8Array(readFileSync(path));
    expect(firstMismatch(file, 77, blocks * 512)).toBe(-1);
    expect(file.subarray(blocks * 512).every((b) => b === 0xcc)).toBe(true);
  });

  it('names disks in slot order, answers GET_ID and refuses writes to a read-only disk', async () => {
    const a = diskFile(`ro-${mode}.img`, 64 * 1024, 0x11);
    const b = diskFile(`second-${mode}.img`, 4096);
    const { result, output } = await boot(mode, 'blkapp ro', [virtioBlkDevice(`${a},ro`), virtioBlkDevice({ path: b, serial: 'second' })]);
    expect(output).toMatch(/vda: 64\.0 KiB|vda: 65536 bytes/);
    expect(output).toContain('ro write refused: EROFS');
    expect(result.exitCode).toBe(0);
    expect(new Uint8Array(readFileSync(a)).every((x) => x === 0x11)).toBe(true);
    const info = await boot(mode, 'blkapp info', [virtioBlkDevice(a), virtioBlkDevice({ path: b, serial: 'second' })]);
    expect(info.output).toContain('disks vda vdb');
    expect(info.output).toContain('info blocks=128 bs=512 ro=false depth=256 serial=');
  });

  it('keeps a write acknowledged after FLUSH when the VMM is killed right after', async () => {
    const path = diskFile(`kill-${mode}.img`, 1 << 20);
    const blocks = 512;
    const child = spawn(process.execPath, [runner, imagePath, path, mode, 'blkapp', 'flushmark', '31', String(blocks)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const killed = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no FLUSHED marker within 30 s; output: ${out}; errors: ${err}`));
      }, 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('FLUSHED')) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        resolve(signal);
      });
    });
    expect(killed).toBe('SIGKILL');
    const file = new Uint8Array(readFileSync(path));
    expect(firstMismatch(file, 31, blocks * 512)).toBe(-1);
  });
});
