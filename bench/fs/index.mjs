// File-system benchmark, each figure against a baseline measured in the same run:
//  1. a 64-byte read of a ramfs file through the VFS vs Node's fs.readSync of a file on tmpfs;
//  2. a sequential read of a 64 MiB file from FAT on virtio-blk, in a guest on the VMM
//     (inline mode), vs the host reading the same bytes of the image;
//  3. creating, writing and closing 10,000 small files: ramfs and FAT, host-side and in a
//     guest on virtio-blk, vs Node writing them to tmpfs.
// Build first (pnpm build), then:  node bench/fs/index.mjs
// UK_BENCH_READS: 64-byte reads per round (default 5,000,000); UK_BENCH_FILES: small files
// (default 10,000); UK_BENCH_BIG_MIB: size of the sequential file (default 64).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printTable } from '../table.mjs';

const pkg = (name) => new URL(`../../packages/${name}/dist/index.js`, import.meta.url);
for (const name of ['vfs', 'fatfs', 'blkdev', 'cli', 'vmm']) {
  if (!existsSync(fileURLToPath(pkg(name)))) {
    console.error(`packages/${name}/dist is missing: build first with  pnpm build`);
    process.exit(1);
  }
}
const { Vfs, RamFs, O_CREAT, O_WRONLY, O_TRUNC } = await import(pkg('vfs').href);
const { FatVolume, mkfs } = await import(pkg('fatfs').href);
const { RamDisk } = await import(pkg('blkdev').href);

const READS = Number(process.env.UK_BENCH_READS ?? 5_000_000);
const FILES = Number(process.env.UK_BENCH_FILES ?? 10_000);
const BIG_MIB = Number(process.env.UK_BENCH_BIG_MIB ?? 64);
const ROUNDS = 5;
const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const work = mkdtempSync(join(shm, 'uk-bench-fs-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const now = () => Number(process.hrtime.bigint());

// ── 1. 64-byte reads ────────────────────────────────────────────────────────────────────────
{
  const vfs = new Vfs();
  await vfs.mount('/', new RamFs());
  const content = new Uint8Array(4096).map((_, i) => i & 0xff);
  await vfs.writeFile('/f', content);
  const fd = await vfs.open('/f');
  const buf = new Uint8Array(64);
  const hostPath = join(work, 'f');
  writeFileSync(hostPath, content);
  const hfd = openSync(hostPath, 'r');
  const hostReads = Math.max(1000, Math.floor(READS / 20));

  const time = (n, f) => {
    const t = now();
    f(n);
    return (now() - t) / n;
  };
  const ukPread = [];
  const ukRead = [];
  const ukAsync = [];
  const node = [];
  for (let r = 0; r < ROUNDS; r++) {
    ukPread.push(time(READS, (n) => {
      for (let i = 0; i < n; i++) vfs.preadSync(fd, buf, 128);
    }));
    ukRead.push(time(READS, (n) => {
      for (let i = 0; i < n; i++) {
        vfs.lseek(fd, 128);
        vfs.readSync(fd, buf);
      }
    }));
    const t = now();
    for (let i = 0; i < READS / 10; i++) await vfs.pread(fd, buf, 128);
    ukAsync.push((now() - t) / (READS / 10));
    node.push(time(hostReads, (n) => {
      for (let i = 0; i < n; i++) readSync(hfd, buf, 0, 64, 128);
    }));
  }
  closeSync(hfd);
  if (buf[0] !== 128) throw new Error('the 64-byte read returned the wrong bytes');
  const base = median(node);
  printTable(
    `1. a 64-byte read of a ramfs file through the VFS vs Node fs.readSync on tmpfs (${shm}), median of ${ROUNDS}`,
    ['read', 'ns/read', 'M reads/s', 'vs Node', 'goal'],
    [
      ['Node fs.readSync(fd, buf, 0, 64, pos), tmpfs', base, 1e3 / base, '1.00x', ''],
      ['vfs.preadSync(fd, buf, pos)', median(ukPread), 1e3 / median(ukPread), `${(base / median(ukPread)).toFixed(1)}x`, '>= 20x'],
      ['vfs.lseek + vfs.readSync(fd, buf)', median(ukRead), 1e3 / median(ukRead), `${(base / median(ukRead)).toFixed(1)}x`, ''],
      ['await vfs.pread(fd, buf, pos)', median(ukAsync), 1e3 / median(ukAsync), `${(base / median(ukAsync)).toFixed(1)}x`, ''],
    ],
  );
}

// ── Guests on the VMM ───────────────────────────────────────────────────────────────────────
const { buildApp, findApp } = await import(pkg('cli').href);
const { Machine, readImage, virtioBlkDevice } = await import(pkg('vmm').href);
const { imagePath } = await buildApp(findApp(fileURLToPath(new URL('../../apps/fsdemo', import.meta.url))), join(work, 'build'));

function tool(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${name} is not installed: install dosfstools and mtools`);
}

async function guest(disk, args, mode = 'inline') {
  let text = '';
  const r = await new Machine({
    image: readImage(imagePath),
    mode,
    memBytes: 256 * 1024 * 1024,
    bootargs: `-- fsdemo ${args}`,
    devices: [virtioBlkDevice(disk)],
    output: (b) => {
      text += Buffer.from(b).toString();
    },
  }).run();
  if (r.exitCode !== 0) throw new Error(`the guest failed (${r.message}):\n${text}`);
  return text;
}

// ── 2. Sequential read of a big file ────────────────────────────────────────────────────────
{
  const disk = join(work, 'big.img');
  writeFileSync(disk, '');
  truncateSync(disk, (2 * BIG_MIB + 32) * 1024 * 1024);
  execFileSync(tool('mkfs.fat'), ['-F', '32', disk], { stdio: 'pipe' });
  const big = join(work, 'big.bin');
  const chunk = Buffer.alloc(1024 * 1024);
  const bfd = openSync(big, 'w');
  for (let i = 0; i < BIG_MIB; i++) {
    for (let k = 0; k < chunk.length; k += 4) chunk.writeUInt32LE((i * 0x9e3779b1 + k * 2654435761) >>> 0, k);
    writeSync(bfd, chunk);
  }
  closeSync(bfd);
  // Two copies: the guest reads one to warm its code up, then the other (cold data, cold chain).
  for (const name of ['a.bin', 'b.bin']) execFileSync(tool('mcopy'), ['-i', disk, big, `::/${name}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

  // The host baseline: the same number of bytes read from the image in 1 MiB pieces (warm cache).
  const hostRound = () => {
    const fd = openSync(disk, 'r');
    const buf = Buffer.alloc(1024 * 1024);
    const t = now();
    let total = 0;
    for (let pos = 32 * 1024 * 1024; total < BIG_MIB * 1024 * 1024; pos += buf.length) total += readSync(fd, buf, 0, buf.length, pos);
    const ns = now() - t;
    closeSync(fd);
    return (total / ns) * 1e3;
  };
  hostRound();
  const host = [];
  const cold = [];
  const warm = [];
  const raw = [];
  for (let r = 0; r < 3; r++) {
    host.push(hostRound());
    const out = await guest(disk, `read /data/a.bin ; read /data/b.bin ; dd vda ${BIG_MIB}`);
    const rates = [...out.matchAll(/read (\d+) bytes (?:from vda )?in ([\d.]+) ms: ([\d.]+) MB\/s/g)];
    if (rates.length !== 3 || rates.some((m) => Number(m[1]) !== BIG_MIB * 1024 * 1024)) throw new Error(`unexpected guest output:\n${out}`);
    cold.push(Number(rates[0][3]));
    warm.push(Number(rates[1][3]));
    raw.push(Number(rates[2][3]));
  }
  const h = median(host);
  const row = (what, v, goal = '') => [what, v, `${(v / h).toFixed(2)}x`, goal];
  printTable(`2. sequential read of a ${BIG_MIB} MiB file in 1 MiB reads, median of 3 boots`, ['reader', 'MB/s', 'vs host', 'goal'], [
    row('host: fs.readSync of the image file (page cache)', h),
    row('guest: FAT32 on virtio-blk, inline mode, first file read after boot', median(cold)),
    row('guest: FAT32 on virtio-blk, inline mode, second file (warm code)', median(warm), '>= 0.5x'),
    row('guest: the raw virtio-blk device, no file system (dd)', median(raw)),
  ]);
}

// ── 3. Many small files ─────────────────────────────────────────────────────────────────────
{
  const data = new Uint8Array(100).fill(0x61);
  const rows = [];
  const hostDir = join(work, 'many');
  mkdirSync(hostDir);
  let t = now();
  for (let i = 0; i < FILES; i++) {
    const fd = openSync(join(hostDir, `f${i}.txt`), 'w');
    writeSync(fd, data);
    closeSync(fd);
  }
  const nodeMs = (now() - t) / 1e6;
  rows.push([`Node: open/write/close on tmpfs`, nodeMs, (FILES / nodeMs) * 1e3, '1.00x']);

  const vfs = new Vfs();
  await vfs.mount('/', new RamFs());
  await vfs.mkdir('/many');
  t = now();
  for (let i = 0; i < FILES; i++) {
    const fd = await vfs.open(`/many/f${i}.txt`, O_CREAT | O_WRONLY | O_TRUNC);
    await vfs.write(fd, data);
    await vfs.close(fd);
  }
  const ramMs = (now() - t) / 1e6;
  rows.push(['host-side: ramfs through the VFS', ramMs, (FILES / ramMs) * 1e3, `${(nodeMs / ramMs).toFixed(2)}x`]);

  const ram = new RamDisk({ blockCount: 64 * 2048 });
  await mkfs(ram, { fatType: 32 });
  const fatVfs = new Vfs();
  await fatVfs.mount('/', await FatVolume.mount(ram));
  await fatVfs.mkdir('/many');
  t = now();
  for (let i = 0; i < FILES; i++) {
    const fd = await fatVfs.open(`/many/f${i}.txt`, O_CREAT | O_WRONLY | O_TRUNC);
    await fatVfs.write(fd, data);
    await fatVfs.close(fd);
  }
  await fatVfs.sync();
  const fatMs = (now() - t) / 1e6;
  rows.push(['host-side: FAT32 on a RAM disk (with sync)', fatMs, (FILES / fatMs) * 1e3, `${(nodeMs / fatMs).toFixed(2)}x`]);

  const disk = join(work, 'small.img');
  writeFileSync(disk, '');
  truncateSync(disk, 64 * 1024 * 1024);
  execFileSync(tool('mkfs.fat'), ['-F', '32', disk], { stdio: 'pipe' });
  for (const [where, dir] of [['guest: ramfs, inline mode', '/many'], ['guest: FAT32 on virtio-blk, inline mode (with sync)', '/data/many']]) {
    const out = await guest(disk, `mkfiles ${FILES} ${dir} 100`);
    const m = /made \d+ files of \d+ bytes in ([\d.]+) ms \(\+([\d.]+) ms sync\)/.exec(out);
    if (m === null) throw new Error(`unexpected guest output:\n${out}`);
    const ms = Number(m[1]) + Number(m[2]);
    rows.push([where, ms, (FILES / ms) * 1e3, `${(nodeMs / ms).toFixed(2)}x`]);
  }
  const fsck = execFileSync(tool('fsck.fat'), ['-n', disk]).toString();
  printTable(`3. create, write (100 bytes) and close ${FILES.toLocaleString('en-US')} files in one directory`, ['where', 'ms', 'files/s', 'vs Node'], rows);
  console.log(`fsck.fat -n of the guest's disk afterwards: ${fsck.trim().split('\n').pop()}`);
}
