import { existsSync, fstatSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { DiskError, type ExecutionMode, ImageError, Machine, NetSpecError, netDevicesFromSpecs, readImage, type SlotDevice, virtioBlkDevice } from '@uk/vmm';
import { findApp } from '../build/app.js';
import { buildApp } from '../build/bundle.js';
import { UsageError } from '../errors.js';
import { parseSize } from '../text/size.js';
import { HELP } from './help.js';
import { options } from './options.js';
import { startWatchdog } from './watchdog.js';
import { openCodeCache } from '../cache/code-cache.js';
import { loadDeviceModules } from '../devices/slot-devices.js';
import { quoteWord } from '@uk/boot';

export async function runCommand(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const args = sep < 0 ? argv : argv.slice(0, sep);
  const guestArgs = sep < 0 ? [] : argv.slice(sep + 1);
  const { values, positionals } = options(args, {
    mode: { type: 'string', default: 'isolated' },
    mem: { type: 'string', short: 'm', default: '64M' },
    timeout: { type: 'string' },
    env: { type: 'string', short: 'e', multiple: true },
    disk: { type: 'string', multiple: true },
    net: { type: 'string', multiple: true },
    device: { type: 'string', multiple: true },
    'code-cache': { type: 'boolean', default: true },
    'no-code-cache': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, 'run');
  if (values['no-code-cache']) values['code-cache'] = false;
  if (values.help) {
    process.stdout.write(HELP.run);
    return 0;
  }
  const target = positionals[0];
  if (target === undefined) throw new UsageError('uk run: which image or app? e.g. uk run apps/hello (see uk run --help)');
  if (positionals.length > 1) throw new UsageError(`uk run: unexpected argument ${positionals[1]}; guest arguments go after -- (see uk run --help)`);
  const mode = values.mode as string;
  if (mode !== 'isolated' && mode !== 'inline') throw new UsageError(`uk run: --mode ${mode}: expected isolated or inline`);
  const memBytes = parseSize(values.mem as string, '--mem');
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!(s > 0)) throw new UsageError(`uk run: --timeout ${values.timeout}: expected a number of seconds greater than 0`);
    timeoutMs = s * 1000;
  }
  const env = (values.env as string[] | undefined) ?? [];
  for (const e of env) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new UsageError(`uk run: --env ${e}: expected NAME=value`);

  let imagePath = target;
  // The app being run, if it is one: its package.json may declare device modules.
  let appDir: string | undefined;
  if (existsSync(target) && statSync(target).isDirectory()) {
    const app = findApp(target);
    appDir = app.dir;
    process.stderr.write(`building ${app.name}...\n`);
    imagePath = (await buildApp(app)).imagePath;
  } else if (!existsSync(target) && existsSync(`apps/${target}`)) {
    const app = findApp(target);
    appDir = app.dir;
    imagePath = (await buildApp(app)).imagePath;
  }
  let image: ReturnType<typeof readImage>;
  try {
    image = readImage(imagePath);
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(`uk run: ${e.message}`);
    throw e;
  }
  const name = basename(imagePath).replace(/\.uk\.js$/, '').replace(/\.js$/, '');
  const bootargs = [...env.map(quoteWord), '--', ...[name, ...guestArgs].map(quoteWord)].join(' ');

  const interactive = stdinIsTerminal();
  const stdin = interactive ? process.stdin : undefined;
  const devices = slotDevices((values.disk as string[] | undefined) ?? [], (values.net as string[] | undefined) ?? []);
  // Device modules (third-party device models) take the slots after the disks and NICs; they
  // are loaded before any host socket is opened, so that a bad one leaves nothing behind.
  const modules = await loadDeviceModules(appDir, (values.device as string[] | undefined) ?? []);
  checkSlotCount([...devices, ...modules]);
  // Open the NICs' host sockets now: a port in use is an error before boot, not a log line after.
  for (const d of devices) {
    try {
      await (d as { prepare?(): Promise<void> }).prepare?.();
    } catch (e) {
      if (e instanceof NetSpecError) throw new UsageError(`uk run: ${e.message}`);
      throw e;
    }
  }
  devices.push(...modules);
  const codeCache = values['code-cache'] === false ? undefined : openCodeCache(image.bytes);
  const machine = new Machine({ image, memBytes, mode: mode as ExecutionMode, bootargs, timeoutMs, input: stdin, codeCache, devices });
  const watchdog = mode === 'inline' && timeoutMs !== undefined ? startWatchdog(timeoutMs) : undefined;
  const result = await machine.run();
  watchdog?.disarm();
  stdin?.pause();
  if (result.reason !== 'poweroff') process.stderr.write(`uk: ${result.message}\n`);
  return result.exitCode;
}

/** Disks first, then NICs, each on the next virtio-mmio slot; a bad spec is the user's to fix. */
function slotDevices(disks: string[], nets: string[]): SlotDevice[] {
  const devices: SlotDevice[] = [];
  try {
    for (const d of disks) devices.push(virtioBlkDevice(d));
    devices.push(...netDevicesFromSpecs(nets));
  } catch (e) {
    if (e instanceof DiskError) throw new UsageError(`uk run: ${e.message}`);
    if (e instanceof NetSpecError) throw new UsageError(`uk run: ${e.message}`);
    throw e;
  }
  checkSlotCount(devices);
  return devices;
}

function checkSlotCount(devices: readonly SlotDevice[]): void {
  if (devices.length > 8) throw new UsageError(`uk run: ${devices.length} devices given; the board has 8 virtio-mmio slots`);
}

/**
 * Whether stdin is a terminal, asked without creating process.stdin — a stream that costs a
 * run some 3 ms — unless it may be one: a terminal is a character device, and /dev/null (a
 * script's usual stdin) is the character device that is not.
 */
function stdinIsTerminal(): boolean {
  try {
    const st = fstatSync(0);
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false;
  } catch {
    return false;
  }
  return process.stdin.isTTY === true;
}
