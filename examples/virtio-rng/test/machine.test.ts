import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, findApp } from '@uk/cli';
import { Machine, readImage, type SlotDevice } from '@uk/vmm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import createDevice, { seededSource, virtioRngDevice } from '../src/device/index.js';

// examples/rng-app built as `uk build` does and booted on the VMM with this package's device
// model attached, in both execution modes.

const appDir = fileURLToPath(new URL('../../rng-app', import.meta.url));
let work: string;
let imagePath: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'uk-rng-'));
  imagePath = (await buildApp(findApp(appDir), work)).imagePath;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function boot(mode: 'inline' | 'isolated', devices: SlotDevice[], args: string[] = []): Promise<{ status: number; text: string }> {
  let text = '';
  const decoder = new TextDecoder();
  const r = await new Machine({
    image: readImage(imagePath),
    mode,
    bootargs: ['--', 'rng-app', ...args].join(' '),
    timeoutMs: 30_000,
    devices,
    output: (b) => {
      text += decoder.decode(b, { stream: true });
    },
  }).run();
  return { status: r.exitCode, text };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

describe.each(['inline', 'isolated'] as const)('rng-app on the VMM in %s mode', (mode) => {
  it('reads 4096 random bytes from the device and finds them uniform', async () => {
    const r = await boot(mode, [createDevice({})]);
    expect(r.text).toContain('virtio-rng: rng0: virtio-mmio@10001000 (entropy), 4 requests of up to 4096 bytes in flight');
    expect(r.text).toMatch(/rng-app: 4096 random bytes from rng0 in \d+ us: ([0-9a-f]{2} ){16}\.\.\./);
    expect(r.text).toMatch(/rng-app: 2\d\d\/256 distinct byte values, chi-square \d+\.\d .*: looks uniform/);
    expect(r.status).toBe(0);
  });

  it('gets every byte from a device that answers 100 bytes at a time', async () => {
    const dev = virtioRngDevice({ source: seededSource(7), bytesPerRequest: 100 });
    const r = await boot(mode, [dev], ['5000']);
    const want = new Uint8Array(16);
    seededSource(7)(want);
    expect(r.text).toContain(`rng-app: 5000 random bytes from rng0 in`);
    expect(r.text).toContain(`: ${hex(want)} ...`);
    expect(r.status).toBe(0);
    // Four parts of 1250 bytes in flight together, each answered 100 bytes at a time.
    expect(dev.backend?.stats).toEqual({ requests: 4 * 13, bytes: 5000 });
  });
});

describe('rng-app on the VMM', () => {
  it('exits 1 when the device gives only zeros', async () => {
    const r = await boot('inline', [virtioRngDevice({ source: (b) => b.fill(0) })]);
    expect(r.text).toContain('the device returned only zeros');
    expect(r.status).toBe(1);
  });

  it('without a device, fails with ENODEV naming what to attach', async () => {
    const r = await boot('inline', []);
    expect(r.text).toMatch(/ENODEV: no virtio entropy device .*--device @acme\/virtio-rng\/device/);
    expect(r.status).toBe(1);
  });
});
