import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildApp, findApp } from '../../../packages/cli/src/index.js';
import { type ExecutionMode, Machine, type MachineResult, readImage, type SlotDevice, type UserNetOptions, virtioBlkDevice, virtioNetDevice, type VirtioNetSlotDevice } from '../../../packages/vmm/src/index.js';
import type { UserNetPort } from '../../../packages/vmm/src/net/user/index.js';

const built = new Map<string, Promise<string>>();

/** Builds an app (httpd itself, or a fixture under test/fixtures) once per test file. */
export function image(app: string): Promise<string> {
  let p = built.get(app);
  if (p === undefined) {
    const dir = app === 'httpd' ? fileURLToPath(new URL('..', import.meta.url)) : fileURLToPath(new URL(`./fixtures/${app}`, import.meta.url));
    p = buildApp(findApp(dir), mkdtempSync(join(tmpdir(), `uk-${app}-`))).then((r) => r.imagePath);
    built.set(app, p);
  }
  return p;
}

export interface Guest {
  /** The console so far. */
  readonly output: () => string;
  /** Resolves when the console shows `pattern`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** The user network of the first NIC. */
  readonly net: UserNetPort;
  /** The NIC itself (its backend's counters). */
  readonly nic: VirtioNetSlotDevice;
  /** The host port forwarded to the guest's port 80 (tcp). */
  readonly httpPort: number;
  /** Types `q` on the console (httpd stops) and waits for the machine to end. */
  stop(): Promise<MachineResult>;
  readonly done: Promise<MachineResult>;
}

export interface BootOptions {
  readonly mode?: ExecutionMode;
  readonly args?: readonly string[];
  readonly disk?: string;
  readonly net?: UserNetOptions;
  readonly memBytes?: number;
  readonly timeoutMs?: number;
}

/** Boots `app` with a user network that forwards a free host port to the guest's port 80. */
export async function boot(app: string, o: BootOptions = {}): Promise<Guest> {
  const path = await image(app);
  let text = '';
  const waiters: Array<() => void> = [];
  const input = new PassThrough();
  const nic: VirtioNetSlotDevice = virtioNetDevice(
    {
      link: { kind: 'user', options: { hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 80 }], log: () => {}, ...o.net } },
    },
    { log: () => {} },
  );
  const devices: SlotDevice[] = [];
  if (o.disk !== undefined) devices.push(virtioBlkDevice(o.disk));
  devices.push(nic);
  const machine = new Machine({
    image: readImage(path),
    mode: o.mode ?? 'inline',
    memBytes: o.memBytes ?? 64 * 1024 * 1024,
    bootargs: ['--', app, ...(o.args ?? [])].join(' '),
    timeoutMs: o.timeoutMs ?? 120_000,
    devices,
    input,
    output: (b) => {
      text += Buffer.from(b).toString();
      for (const w of waiters.splice(0)) w();
    },
  });
  const done = machine.run();
  const waitFor = (pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`console never showed ${pattern}; it shows:\n${text}`)), ms);
      const check = () => {
        const m = pattern.exec(text);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m);
          return;
        }
        waiters.push(check);
      };
      check();
      void done.then(() => {
        const m = pattern.exec(text);
        if (m === null) {
          clearTimeout(timer);
          reject(new Error(`the machine stopped before the console showed ${pattern}; it shows:\n${text}`));
        }
      });
    });
  // The port exists once the machine has attached the NIC.
  for (let i = 0; i < 200 && nic.port === undefined; i++) await new Promise((r) => setTimeout(r, 5));
  const port = nic.port as UserNetPort;
  await port.ready;
  return {
    output: () => text,
    waitFor,
    net: port,
    nic,
    httpPort: port.forwards[0]?.boundPort ?? 0,
    done,
    async stop() {
      input.write('q');
      return done;
    },
  };
}
