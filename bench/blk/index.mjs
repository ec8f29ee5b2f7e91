// bench/blk: virtio-blk from a guest against plain Node reads of the same file on the host.
//   4 KiB random reads (IOPS) and sequential reads (MB/s), at queue depth 1 and 32, in both
//   execution modes. The guest times itself (rdtime) after a warm-up; the host baseline runs
//   the same reads in this process. Goal: sequential >= 0.5x the host.
//   UK_BENCH_DISK_MB (default 128), UK_BENCH_SEQ_KB (request size, default 128),
//   UK_BENCH_RAND_OPS (default 20000), UK_BENCH_PASSES (sequential sweeps, default 2),
//   UK_BENCH_ROUNDS (host, inline and isolated run in turn this many times; medians shown, default 3)
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, findApp } from '../../packages/cli/dist/index.js';
import { Machine, readImage, virtioBlkDevice } from '../../packages/vmm/dist/index.js';
import { median, printTable } from '../table.mjs';

const DISK_MB = Number(process.env.UK_BENCH_DISK_MB ?? 128);
const SEQ = Number(process.env.UK_BENCH_SEQ_KB ?? 128) * 1024;
const RAND_OPS = Number(process.env.UK_BENCH_RAND_OPS ?? 20000);
const PASSES = Number(process.env.UK_BENCH_PASSES ?? 2);
const ROUNDS = Number(process.env.UK_BENCH_ROUNDS ?? 3);
const fixture = fileURLToPath(new URL('../../packages/virtio-blk/test/fixtures/blkapp', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'uk-bench-blk-'));
const { imagePath } = await buildApp(findApp(fixture), dir);
const image = readImage(imagePath);

// The disk: DISK_MB of non-zero bytes, written once (and so in the page cache for both sides).
const diskPath = join(dir, 'disk.img');
const diskBytes = DISK_MB << 20;
{
  const fh = await open(diskPath, 'w');
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  for (let i = 0; i < DISK_MB; i++) await fh.write(chunk, 0, chunk.length, i << 20);
  await fh.close();
}

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

/** The host baseline: the guest's reads, with fs.promises on the same file. */
async function host() {
  const fh = await open(diskPath, 'r');
  const random = async (qd, ops) => {
    let left = ops;
    let seed = 12345;
    await Promise.all(
      Array.from({ length: qd }, async () => {
        const buf = new Uint8Array(4096);
        while (left-- > 0) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          await fh.read(buf, 0, 4096, (seed % (diskBytes / 4096)) * 4096);
        }
      }),
    );
  };
  const sequential = async (qd, bytes) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: qd }, async () => {
        const buf = new Uint8Array(SEQ);
        for (;;) {
          const at = next;
          if (at + SEQ > bytes) return;
          next += SEQ;
          await fh.read(buf, 0, SEQ, at % diskBytes);
        }
      }),
    );
  };
  const out = {};
  for (const qd of [1, 32]) {
    await random(qd, Math.min(1000, RAND_OPS));
    const t0 = process.hrtime.bigint();
    await random(qd, RAND_OPS);
    out[`randread qd=${qd}`] = RAND_OPS / seconds(t0);
  }
  const total = Math.floor(diskBytes / SEQ) * SEQ * PASSES;
  for (const qd of [1, 32]) {
    await sequential(qd, Math.min(total, 32 * SEQ * 8));
    const t0 = process.hrtime.bigint();
    await sequential(qd, total);
    const mbs = total / 1e6 / seconds(t0);
    out[`seqread qd=${qd}`] = mbs;
    out[`seqread-dma qd=${qd}`] = mbs;
  }
  await fh.close();
  return out;
}

async function guest(mode) {
  let text = '';
  const r = await new Machine({
    image,
    mode,
    memBytes: 128 << 20,
    bootargs: `blkapp bench ${SEQ / 1024} ${RAND_OPS} ${PASSES}`,
    devices: [virtioBlkDevice(`${diskPath},ro`)],
    output: (b) => (text += Buffer.from(b).toString()),
  }).run();
  if (r.exitCode !== 0) throw new Error(`the bench kernel failed in ${mode} mode: ${r.message}\n${text}`);
  const out = {};
  for (const m of text.matchAll(/BENCH (\S+) qd=(\d+) (ops|bytes)=(\d+) ns=(\d+)/g)) {
    const secs = Number(m[5]) / 1e9;
    out[`${m[1]} qd=${m[2]}`] = m[3] === 'ops' ? Number(m[4]) / secs : Number(m[4]) / 1e6 / secs;
  }
  return out;
}

// Interleaved rounds, so that noise from other work on the machine hits every column alike.
const runs = { base: [], inline: [], isolated: [] };
for (let r = 0; r < ROUNDS; r++) {
  runs.base.push(await host());
  runs.inline.push(await guest('inline'));
  runs.isolated.push(await guest('isolated'));
}
const medians = (list) => Object.fromEntries(Object.keys(list[0]).map((k) => [k, median(list.map((x) => x[k]))]));
const base = medians(runs.base);
const inline = medians(runs.inline);
const isolated = medians(runs.isolated);

const rows = Object.keys(base).map((k) => {
  const [kind, qd] = k.split(' ');
  const what = kind === 'randread' ? `4 KiB random read, ${qd}` : `${SEQ / 1024} KiB sequential read${kind === 'seqread-dma' ? ' into DMA memory' : ''}, ${qd}`;
  return [what, kind === 'randread' ? 'IOPS' : 'MB/s', base[k], inline[k], isolated[k], `${(inline[k] / base[k]).toFixed(2)}x`, `${(isolated[k] / base[k]).toFixed(2)}x`];
});
printTable(
  `virtio-blk: a guest reading a ${DISK_MB} MiB disk against Node reading the same file in this process, median of ${ROUNDS} interleaved rounds (goal: sequential >= 0.50x host)`,
  ['test', 'unit', 'host (node)', 'guest inline', 'guest isolated', 'inline/host', 'isolated/host'],
  rows,
);
await rm(dir, { recursive: true, force: true });
