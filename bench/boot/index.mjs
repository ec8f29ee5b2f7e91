// bench/boot: how fast uk boots, and what a guest's MMIO exit costs in isolated mode.
//   1. guest time from kernel entry to main, per mode (reported by the hello kernel itself)
//   2. the whole `uk run hello` process against `node -e 0`, measured in the same run
//   3. the MMIO read round trip in isolated mode (and inline, for comparison)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Machine, readImage, imageFromBytes, IMAGE_MAGIC } from '../../packages/vmm/dist/index.js';
import { buildApp, findApp } from '../../packages/cli/dist/index.js';
import { median, printTable, quantile } from '../table.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
process.chdir(root);
const RUNS = Number(process.env.UK_BENCH_RUNS ?? 15);
const out = mkdtempSync(join(tmpdir(), 'uk-bench-boot-'));
const { imagePath } = await buildApp(findApp('apps/hello'), out);
const image = readImage(imagePath);

// 1. Entry to main: without V8's code cache (every function compiled as it first runs) and
// with the cache `uk run` keeps per image.
const bootRows = [];
let cache;
for (const mode of ['inline', 'isolated']) {
  for (const cached of [false, true]) {
    const us = [];
    for (let i = 0; i < RUNS; i++) {
      let text = '';
      const codeCache = cached ? { data: cache } : { onUpdate: (d) => (cache ??= d) };
      const r = await new Machine({ image, mode, codeCache, output: (b) => (text += Buffer.from(b).toString()) }).run();
      if (r.exitCode !== 0) throw new Error(`hello failed in ${mode} mode: ${r.message}`);
      const m = /Boot: (\d+) us from kernel entry to main/.exec(text);
      us.push(Number(m[1]));
    }
    bootRows.push([`${mode}, ${cached ? 'code cache' : 'no code cache'}`, median(us), Math.min(...us), quantile(us, 0.9), '1000', (median(us) / 1000).toFixed(2) + 'x']);
  }
}
printTable(`Guest time from kernel entry to main (hello, ${RUNS} boots per row)`, ['mode', 'median µs', 'best µs', 'p90 µs', 'goal µs', 'median/goal'], bootRows);

// 2. Process time: uk run hello vs node -e 0, interleaved so noise hits both alike.
const bin = join(root, 'packages/cli/dist/bin.js');
const wall = (args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const times = { node: [], inline: [], isolated: [] };
for (let i = 0; i < RUNS; i++) {
  times.node.push(wall(['-e', '0']));
  times.inline.push(wall([bin, 'run', '--mode', 'inline', imagePath]));
  times.isolated.push(wall([bin, 'run', '--mode', 'isolated', imagePath]));
}
const base = median(times.node);
printTable(`Whole process: \`uk run hello\` against \`node -e 0\` (${RUNS} runs each, interleaved)`, ['command', 'median ms', 'p90 ms', 'ratio to node -e 0', 'goal'], [
  ['node -e 0', base, quantile(times.node, 0.9), '1.00x', ''],
  ['uk run --mode inline hello', median(times.inline), quantile(times.inline, 0.9), (median(times.inline) / base).toFixed(2) + 'x', '<= 1.5x'],
  ['uk run --mode isolated hello', median(times.isolated), quantile(times.isolated, 0.9), (median(times.isolated) / base).toFixed(2) + 'x', '<= 1.5x'],
]);

// 3. MMIO read round trip: a raw guest times each read of the PLIC's priority register.
const N = Number(process.env.UK_BENCH_MMIO ?? 20000);
const guest = `${IMAGE_MAGIC}var __ukImage = { default: { async start(cpu) {
  const N = ${N}; const lat = new Float64Array(N); const clk = new Float64Array(N);
  for (let i = 0; i < 2000; i++) cpu.mmio.read32(0xc000004);
  for (let i = 0; i < N; i++) { const a = cpu.readTime(); const b = cpu.readTime(); clk[i] = b - a; }
  for (let i = 0; i < N; i++) { const a = cpu.readTime(); cpu.mmio.read32(0xc000004); lat[i] = cpu.readTime() - a; }
  const t0 = cpu.readTime(); for (let i = 0; i < N; i++) cpu.mmio.read32(0xc000004); const bulk = (cpu.readTime() - t0) / N;
  const enc = (s) => { for (const c of s) cpu.mmio.write8(0x10000000, c.charCodeAt(0)); };
  lat.sort(); clk.sort();
  enc(JSON.stringify({ median: lat[N >> 1], p99: lat[Math.floor(N * 0.99)], clock: clk[N >> 1], bulk }));
  cpu.mmio.write32(0x100000, 0x5555); await new Promise(() => {});
} } };`;
const mmioRows = [];
for (const mode of ['inline', 'isolated']) {
  let text = '';
  const r = await new Machine({ image: imageFromBytes('mmio.uk.js', Buffer.from(guest)), mode, output: (b) => (text += Buffer.from(b).toString()) }).run();
  if (r.exitCode !== 0) throw new Error(r.message);
  const s = JSON.parse(text);
  const med = s.median - s.clock;
  mmioRows.push([mode, med / 1000, (s.p99 - s.clock) / 1000, s.bulk / 1000, mode === 'isolated' ? '2.00' : '', mode === 'isolated' ? (med / 2000).toFixed(2) + 'x' : '']);
}
printTable(`MMIO read round trip (${N} reads of a PLIC register; rdtime's own cost of ~${''}subtracted)`, ['mode', 'median µs', 'p99 µs', 'mean µs (back-to-back)', 'goal µs', 'median/goal'], mmioRows);
