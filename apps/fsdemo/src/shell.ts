import { blockDevice, crc32 } from '@uk/blkdev';
import { decodeUtf8, encodeUtf8 } from '@uk/fdt';
import { type KernelContext, KernelError } from '@uk/hal';
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, type Vfs } from '@uk/vfs';

const CHUNK = 1024 * 1024;

type Say = (line: string) => void;

/** The commands, each `(args) => void`; they throw KernelError on failure. */
export function commands(fs: Vfs, ctx: KernelContext, say: Say): Record<string, (args: string[]) => Promise<void>> {
  const join = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);
  const base = (p: string) => p.replace(/\/+$/, '').split('/').pop() ?? p;
  const isDir = async (p: string) => (await fs.exists(p)) && (await fs.stat(p)).type === 'directory';

  const copyFile = async (from: string, to: string): Promise<number> => {
    const src = await fs.open(from, O_RDONLY);
    const dst = await fs.open(to, O_WRONLY | O_CREAT | O_TRUNC);
    const buf = new Uint8Array(CHUNK);
    let total = 0;
    try {
      for (;;) {
        const n = await fs.read(src, buf);
        if (n === 0) break;
        await fs.write(dst, n === buf.length ? buf : buf.subarray(0, n));
        total += n;
      }
    } finally {
      await fs.close(src);
      await fs.close(dst);
    }
    return total;
  };

  const copyTree = async (from: string, to: string): Promise<number> => {
    if (!(await isDir(from))) return copyFile(from, to);
    await fs.mkdir(to, { recursive: true });
    let total = 0;
    for (const e of await fs.readdir(from)) total += await copyTree(join(from, e.name), join(to, e.name));
    return total;
  };

  const tree = async (dir: string, indent: string): Promise<void> => {
    for (const e of await fs.readdir(dir)) {
      const p = join(dir, e.name);
      if (e.type === 'directory') {
        say(`${indent}${e.name}/`);
        await tree(p, `${indent}  `);
      } else {
        say(`${indent}${e.name} (${(await fs.stat(p)).size} bytes)`);
      }
    }
  };

  return {
    async ls(args) {
      const paths = args.length > 0 ? args : ['/data'];
      for (const p of paths) {
        if (paths.length > 1) say(`${p}:`);
        for (const e of await fs.readdir(p)) {
          const st = await fs.stat(join(p, e.name));
          say(`${e.type === 'directory' ? 'd' : '-'} ${String(st.size).padStart(10)} ${new Date(st.mtimeMs).toISOString().slice(0, 16).replace('T', ' ')} ${e.name}${e.type === 'directory' ? '/' : ''}`);
        }
      }
    },
    async tree(args) {
      const root = args[0] ?? '/data';
      say(root.endsWith('/') ? root : `${root}/`);
      await tree(root, '  ');
    },
    async cat(args) {
      for (const p of args) ctx.console.write(decodeUtf8(await fs.readFile(p), 0, (await fs.stat(p)).size));
    },
    async cp(args) {
      const [from, to] = args.filter((a) => a !== '-r');
      if (from === undefined || to === undefined) throw new KernelError('EINVAL', 'usage: cp [-r] FROM TO');
      const dest = (await isDir(to)) ? join(to, base(from)) : to;
      if (`${dest}/`.startsWith(`${from.replace(/\/+$/, '')}/`)) throw new KernelError('EINVAL', `cannot copy ${from} into itself (${dest})`);
      const n = await copyTree(from, dest);
      say(`copied ${n} bytes: ${from} -> ${dest}`);
    },
    async mv(args) {
      if (args.length !== 2) throw new KernelError('EINVAL', 'usage: mv FROM TO');
      const dest = (await isDir(args[1])) ? join(args[1], base(args[0])) : args[1];
      await fs.rename(args[0], dest);
    },
    async rm(args) {
      for (const p of args) await fs.unlink(p);
    },
    async rmdir(args) {
      for (const p of args) await fs.rmdir(p);
    },
    async mkdir(args) {
      const recursive = args.includes('-p');
      for (const p of args.filter((a) => a !== '-p')) await fs.mkdir(p, { recursive });
    },
    async write(args) {
      const [p, ...words] = args;
      if (p === undefined) throw new KernelError('EINVAL', 'usage: write PATH TEXT...');
      await fs.writeFile(p, encodeUtf8(`${words.join(' ')}\n`));
    },
    async stat(args) {
      for (const p of args) {
        const st = await fs.stat(p);
        say(`${p}: ${st.type}, ${st.size} bytes, inode ${st.ino} on device ${st.dev}, modified ${new Date(st.mtimeMs).toISOString()}`);
      }
    },
    async df() {
      for (const m of fs.mounts()) {
        const s = await fs.statfs(m.path);
        const total = s.blocks * s.blockSize;
        say(`${m.path.padEnd(8)} ${m.type.padEnd(6)} ${total > 0 ? `${((s.freeBlocks * s.blockSize) / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MiB free` : 'in memory'}${m.readOnly ? ' (read-only)' : ''}`);
      }
    },
    async crc(args) {
      for (const p of args) say(`${crc32(await fs.readFile(p)).toString(16).padStart(8, '0')}  ${p}`);
    },
    async read(args) {
      // Reads a file in 1 MiB pieces and reports the rate: the sequential-read benchmark.
      const p = args[0];
      if (p === undefined) throw new KernelError('EINVAL', 'usage: read PATH');
      const fd = await fs.open(p, O_RDONLY);
      const buf = new Uint8Array(CHUNK);
      const t0 = ctx.cpu.readTime();
      let total = 0;
      let sum = 0;
      for (;;) {
        const n = await fs.read(fd, buf);
        if (n === 0) break;
        total += n;
        sum = (sum + buf[0] + buf[n - 1]) >>> 0;
      }
      const ns = ctx.cpu.readTime() - t0;
      await fs.close(fd);
      say(`read ${total} bytes in ${(ns / 1e6).toFixed(1)} ms: ${((total / ns) * 1e3).toFixed(1)} MB/s (check ${sum})`);
    },
    async dd(args) {
      // Reads a block device straight through its driver, no file system: the device's own rate.
      const name = args[0] ?? 'vda';
      const dev = blockDevice(ctx, name);
      const mib = Number(args[1] ?? (dev.blockCount * dev.blockSize) / 1048576);
      const buf = new Uint8Array(CHUNK);
      const t0 = ctx.cpu.readTime();
      let total = 0;
      for (let b = 0; total < mib * 1048576 && b + CHUNK / dev.blockSize <= dev.blockCount; b += CHUNK / dev.blockSize) {
        await dev.read(b, buf);
        total += CHUNK;
      }
      const ns = ctx.cpu.readTime() - t0;
      say(`read ${total} bytes from ${name} in ${(ns / 1e6).toFixed(1)} ms: ${((total / ns) * 1e3).toFixed(1)} MB/s`);
    },
    async mkfiles(args) {
      // Creates, writes and closes N small files, then syncs: the small-file benchmark.
      const [count, dir, size] = [Number(args[0] ?? 1000), args[1] ?? '/data/many', Number(args[2] ?? 100)];
      await fs.mkdir(dir, { recursive: true });
      const data = new Uint8Array(size).fill(0x61);
      const t0 = ctx.cpu.readTime();
      for (let i = 0; i < count; i++) {
        const fd = await fs.open(join(dir, `f${i}.txt`), O_WRONLY | O_CREAT | O_TRUNC);
        await fs.write(fd, data);
        await fs.close(fd);
      }
      const t1 = ctx.cpu.readTime();
      await fs.sync();
      const t2 = ctx.cpu.readTime();
      say(`made ${count} files of ${size} bytes in ${((t1 - t0) / 1e6).toFixed(1)} ms (+${((t2 - t1) / 1e6).toFixed(1)} ms sync): ${((count / (t2 - t0)) * 1e9).toFixed(0)} files/s`);
    },
    async sync() {
      await fs.sync();
    },
  };
}

/** Runs `argv` as commands separated by ';'. */
export async function runCommands(fs: Vfs, ctx: KernelContext, argv: string[]): Promise<number> {
  const say: Say = (line) => ctx.console.write(`${line}\n`);
  const table = commands(fs, ctx, say);
  const groups: string[][] = [[]];
  for (const a of argv) {
    if (a === ';') groups.push([]);
    else groups[groups.length - 1].push(a);
  }
  for (const [cmd, ...args] of groups.filter((g) => g.length > 0)) {
    const run = table[cmd];
    if (run === undefined) {
      say(`fsdemo: unknown command "${cmd}"; try: ${Object.keys(table).join(', ')}`);
      return 2;
    }
    try {
      await run(args);
    } catch (e) {
      say(`fsdemo: ${cmd}: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  return 0;
}
