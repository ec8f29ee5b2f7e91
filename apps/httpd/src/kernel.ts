import { buddy } from '@uk/alloc';
import { blockDevices } from '@uk/blkdev';
import { kernel } from '@uk/boot';
import { fat } from '@uk/fatfs';
import { compatible } from '@uk/fdt';
import { type Component, type KernelContext, Services } from '@uk/hal';
import { formatIpv4, NetKey, type TcpModule, tcp, tcpip } from '@uk/net';
import { VirtPlatformKey } from '@uk/plat-virt';
import { coop, SchedulerKey } from '@uk/sched';
import { ramfs, VfsKey } from '@uk/vfs';
import { virtioBlk } from '@uk/virtio-blk';
import { virtioNet } from '@uk/virtio-net';
import { utf8 } from './http/bytes.js';
import { StaticHandler } from './http/handler.js';
import { DEFAULT_LIMITS, type HttpLimits } from './http/limits.js';
import { HttpServer } from './server/server.js';
import { VfsSite } from './server/vfs-site.js';
import { DEFAULT_PAGE } from './site/default-page.js';

const USAGE = 'httpd [--port N] [--root DIR] [--max-connections N] [--header-timeout S] [--idle-timeout S] [--send-timeout S] [--no-autoindex]';

interface Options {
  port: number;
  root: string;
  autoindex: boolean;
  limits: HttpLimits;
}

function parseOptions(args: string[]): Options | string {
  const o: Options = { port: 80, root: '/www', autoindex: true, limits: { ...DEFAULT_LIMITS } };
  const l = o.limits as { -readonly [K in keyof HttpLimits]: number };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--no-autoindex') {
      o.autoindex = false;
      continue;
    }
    const v = args[++i];
    const n = Number(v);
    const seconds = (key: 'headerTimeoutMs' | 'idleTimeoutMs' | 'sendTimeoutMs') => {
      if (!(n > 0)) return `${a} ${v ?? ''}: give a number of seconds greater than 0`;
      l[key] = n * 1000;
      return undefined;
    };
    let bad: string | undefined;
    switch (a) {
      case '--port':
        if (!Number.isInteger(n) || n < 1 || n > 65535) bad = `--port ${v ?? ''}: give a port from 1 to 65535`;
        else o.port = n;
        break;
      case '--root':
        if (v === undefined || !v.startsWith('/')) bad = `--root ${v ?? ''}: give an absolute path`;
        else o.root = v;
        break;
      case '--max-connections':
        if (!Number.isInteger(n) || n < 1) bad = `--max-connections ${v ?? ''}: give a whole number of 1 or more`;
        else l.maxConnections = n;
        break;
      case '--header-timeout':
        bad = seconds('headerTimeoutMs');
        break;
      case '--idle-timeout':
        bad = seconds('idleTimeoutMs');
        break;
      case '--send-timeout':
        bad = seconds('sendTimeoutMs');
        break;
      default:
        bad = `unknown option ${a}`;
    }
    if (bad !== undefined) return `${bad}; usage: ${USAGE}`;
  }
  return o;
}

/** The disk's FAT volume at /www when the machine has a disk; nothing otherwise. */
function siteDisk(device: string): Component {
  const f = fat(device, { at: '/www', readOnly: true });
  return {
    ...f,
    init(ctx: KernelContext) {
      if (!blockDevices(ctx).has(device)) return;
      return f.init.call(f, ctx);
    },
  };
}

/** RAM the frame allocator has handed out (DMA rings and packet buffers, mostly), in KiB. */
function ramInUse(ctx: KernelContext): number {
  const frames = ctx.get(Services.frames);
  return Math.round((frames.totalBytes - frames.freeBytes) / 1024);
}

/** `q` or Ctrl-D on the console stops the server (a clean power-off). */
function onConsoleQuit(ctx: KernelContext, quit: () => void): void {
  const platform = ctx.tryGet(VirtPlatformKey);
  const node = [...ctx.fdt.walk()].find((n) => compatible(n).includes('ns16550a'));
  const line = node?.prop('interrupts')?.u32();
  if (platform === undefined || line === undefined) return;
  platform.console.onInput((bytes) => {
    if (bytes.includes(0x71) || bytes.includes(0x04)) quit();
  });
  ctx.get(Services.irq).register(line, () => platform.console.interrupt());
}

async function main(argv: string[], _env: Record<string, string>, ctx: KernelContext): Promise<number> {
  const say = (s: string) => ctx.console.write(`${s}\n`);
  const opts = parseOptions(argv.slice(1));
  if (typeof opts === 'string') {
    say(`httpd: ${opts}`);
    return 2;
  }
  const vfs = ctx.get(VfsKey);
  const fromDisk = vfs.mounts().some((m) => m.path === opts.root);
  if (!fromDisk) {
    await vfs.mkdir(opts.root, { recursive: true });
    await vfs.writeFile(`${opts.root}/index.html`, utf8(DEFAULT_PAGE));
  }
  const net = ctx.get(NetKey);
  const tcpModule = net.extension<TcpModule>('tcp');
  if (tcpModule === undefined) {
    say('httpd: no TCP: compose tcpip({ tcp: tcp() })');
    return 1;
  }
  const sched = ctx.get(SchedulerKey);
  const clock = ctx.get(Services.clock);
  const site = new VfsSite(vfs, opts.root);
  const handler = new StaticHandler(site, { autoindex: opts.autoindex });
  const server = new HttpServer(tcpModule, ctx.get(Services.scheduler), handler, site, opts.limits, () => clock.now() / 1e6, say);
  const iface = await net.ready;
  const serving = server.serve(opts.port);
  say(`httpd: serving ${fromDisk ? `the disk (vda) at ${opts.root}` : 'the built-in page'} on http://${formatIpv4(iface.address)}${opts.port === 80 ? '' : `:${opts.port}`}/ (RAM in use ${ramInUse(ctx)} KiB; q on the console stops it)`);

  let stopped = false;
  onConsoleQuit(ctx, () => {
    if (stopped) return;
    stopped = true;
    say('httpd: stopping');
    void server.stop();
  });
  // A line when the server falls idle after work: what it served and what it holds.
  let reported = 0;
  sched.spawn('httpd status', async () => {
    while (!stopped) {
      await sched.sleep(1e9);
      const c = server.counters;
      if (c.active === 0 && c.requests + c.refused + c.errors !== reported) {
        reported = c.requests + c.refused + c.errors;
        say(`httpd: idle: ${c.requests} requests on ${c.connections} connections (${c.refused} refused, ${c.errors} errors, ${c.turnedAway} turned away); RAM in use ${ramInUse(ctx)} KiB`);
      }
    }
  });
  await serving;
  return 0;
}

export default kernel({
  alloc: buddy(),
  sched: coop(),
  drivers: [virtioNet(), virtioBlk()],
  fs: { '/': ramfs(), '/www': siteDisk('vda') },
  net: tcpip({ dhcp: true, tcp: tcp() }),
  main,
});
