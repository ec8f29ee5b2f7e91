import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../packages/cli/src/index.js';
import { Machine, readImage } from '../../packages/vmm/src/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('a kernel composed of allocator and scheduler', () => {
  it.each(['inline', 'isolated'] as const)('runs threads on the CLINT timer in %s mode', async (mode) => {
    const out = mkdtempSync(join(tmpdir(), 'uk-threads-'));
    const { imagePath, manifest } = await buildApp(findApp(fixture('threads')), out);
    expect(manifest.components.map((c) => c.name)).toEqual(['plat-virt', 'plat-virt-clock', 'buddy', 'sched']);
    let text = '';
    const r = await new Machine({ image: readImage(imagePath), mode, timeoutMs: 20_000, output: (b) => (text += new TextDecoder().decode(b)) }).run();
    expect(r.message).toBe('guest powered off with status 0');
    expect(text).toContain('order=abc early=0 page=aligned');
  });
});

describe('a kernel with page tables', () => {
  it.each(['inline', 'isolated'] as const)('translates MMIO through Sv39 and faults outside the map in %s mode', async (mode) => {
    const out = mkdtempSync(join(tmpdir(), 'uk-paged-'));
    const { imagePath } = await buildApp(findApp(fixture('paged')), out);
    const run = async (bootargs: string) => {
      let text = '';
      const r = await new Machine({ image: readImage(imagePath), mode, bootargs, timeoutMs: 20_000, output: (b) => (text += new TextDecoder().decode(b)) }).run();
      return { r, text };
    };
    const ok = await run('-- paged');
    expect(ok.text).toContain('satp mode=8 uart=true hole=false');
    expect(ok.r.exitCode).toBe(0);
    const bad = await run(`TOUCH=${0x5000_0000} -- paged`);
    expect(bad.r.reason).toBe('fault');
    expect(bad.r.message).toMatch(/load page fault at 0x50000000/);
    expect(bad.text).toMatch(/panic while a fault: load page fault at 0x50000000/);
  });
});
