import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../cli/src/index.js';
import { type ExecutionMode, Machine, readImage, virtioNetDevice } from '../../vmm/src/index.js';

/**
 * A real TAP device on the host, made by socat and joined to the guest's NIC over UDP:
 *
 *   host stack ⇄ TAP ⇄ socat ⇄ UDP ⇄ uk's virtio-net ⇄ guest (an ARP and UDP-echo responder)
 *
 * Needs root, /dev/net/tun, socat and ip (iproute2); arping (iputils-arping) too for the
 * ARP check. Each run takes its own interface name and a /24 in 10.213.0.0/16 that nothing
 * on the host uses.
 */
const tools = (names: string[]) => names.every((n) => spawnSync('sh', ['-c', `command -v ${n}`], { stdio: 'ignore' }).status === 0);
const missing = [
  process.getuid?.() !== 0 ? 'root' : '',
  existsSync('/dev/net/tun') ? '' : '/dev/net/tun',
  tools(['socat']) ? '' : 'socat',
  tools(['ip']) ? '' : 'ip (iproute2)',
].filter((x) => x !== '');
const hasArping = tools(['arping']);
if (missing.length > 0) console.warn(`SKIPPED: the TAP test needs ${missing.join(', ')}`);
if (missing.length === 0 && !hasArping) console.warn('arping (iputils-arping) is missing: the TAP test checks ARP through the host stack only');

const fixture = fileURLToPath(new URL('./fixtures/netapp', import.meta.url));
let imagePath = '';
const cleanups: Array<() => void> = [];

function run(cmd: string, args: string[], timeoutMs = 10_000) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
}

/** A command run without blocking this process's event loop, which the machine's devices need. */
function runAsync(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

/** A /24 in 10.213.0.0/16 that no address or route on the host touches. */
function freeSubnet(): number {
  const used = `${run('ip', ['-4', '-o', 'addr', 'show']).stdout}\n${run('ip', ['-4', 'route', 'show']).stdout}`;
  for (let k = 0; k < 250; k++) {
    const x = ((process.pid + k * 7) % 230) + 20;
    if (!used.includes(`10.213.${x}.`)) return x;
  }
  throw new Error('no free /24 in 10.213.0.0/16');
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  if (missing.length === 0) imagePath = (await buildApp(findApp(fixture), mkdtempSync(join(tmpdir(), 'uk-tap-')))).imagePath;
});

afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe.skipIf(missing.length > 0).each(['inline', 'isolated'] as const)('a guest on a real TAP device (%s mode)', (mode: ExecutionMode) => {
  it('answers the host’s ARP requests and echoes its UDP datagrams', { timeout: 40_000 }, async () => {
    const x = freeSubnet();
    const hostIp = `10.213.${x}.1`;
    const guestIp = `10.213.${x}.2`;
    const ifname = `ukt${process.pid % 100_000}${mode === 'inline' ? 'n' : 's'}`;
    const [guestPort, socatPort] = [await freeUdpPort(), await freeUdpPort()];
    // The guest's end listens first, so that nothing socat relays meets a closed port.
    const nic = virtioNetDevice(`udp=127.0.0.1:${socatPort},localaddr=127.0.0.1:${guestPort}`);
    await nic.prepare();

    const socat: ChildProcess = spawn(
      'socat',
      [`UDP-DATAGRAM:127.0.0.1:${guestPort},bind=127.0.0.1:${socatPort}`, `TUN:${hostIp}/24,tun-type=tap,iff-no-pi,iff-up,tun-name=${ifname}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let socatErr = '';
    socat.stderr?.on('data', (d) => {
      socatErr += d;
    });
    cleanups.push(() => {
      socat.kill('SIGTERM');
      if (run('ip', ['link', 'show', ifname]).status === 0) run('ip', ['link', 'del', ifname]);
    });
    await waitFor(() => run('ip', ['link', 'show', ifname]).status === 0 || socat.exitCode !== null, 5000, `socat to make ${ifname}`);
    expect(socat.exitCode, `socat failed: ${socatErr}`).toBeNull();

    let output = '';
    const machine = new Machine({
      image: readImage(imagePath),
      mode,
      bootargs: `netapp responder ${guestIp}`,
      devices: [nic],
      timeoutMs: 30_000,
      output: (b) => {
        output += new TextDecoder().decode(b);
      },
    });
    const done = machine.run();
    await waitFor(() => output.includes('responder ready'), 10_000, 'the guest to start');

    if (hasArping) {
      const a = await runAsync('arping', ['-c', '2', '-w', '5', '-I', ifname, guestIp]);
      expect(a.stdout).toMatch(new RegExp(`reply from ${guestIp.replace(/\./g, '\\.')} \\[52:54:00:12:34:56\\]`, 'i'));
      expect(a.status).toBe(0);
    }

    // Through the host's own stack: it resolves the guest with ARP, then sends the datagram.
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => sock.close());
    await new Promise<void>((r) => sock.bind(0, hostIp, r));
    const replies: string[] = [];
    sock.on('message', (m, rinfo) => {
      if (rinfo.address === guestIp && rinfo.port === 7) replies.push(m.toString());
    });
    for (let i = 0; i < 50 && replies.length === 0; i++) {
      sock.send('hello from the host', 7, guestIp);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(replies[0]).toBe('hello from the host');
    expect(run('ip', ['neigh', 'show', guestIp, 'dev', ifname]).stdout).toMatch(/lladdr 52:54:00:12:34:56/);

    sock.send('quit', 7, guestIp);
    const result = await done;
    expect(output).toMatch(/responder done arp=\d+ udp=\d+/);
    expect(result).toMatchObject({ reason: 'poweroff', exitCode: 0 });
  });
});
