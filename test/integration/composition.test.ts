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
    expect(manifest.components.map((c) => c.name)).toEqual(['plat-virt', 'buddy', 'sched']);
    let text = '';
    const r = await new Machine({ image: readImage(imagePath), mode, timeoutMs: 20_000, output: (b) => (text += new TextDecoder().decode(b)) }).run();
    expect(r.message).toBe('guest powered off with status 0');
    expect(text).toContain('order=abc early=0 page=aligned');
  });
});
