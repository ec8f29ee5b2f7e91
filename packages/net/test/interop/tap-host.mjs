// A real TAP device on the host, made by socat and joined to a uk guest's NIC over UDP:
//
//   Linux TCP/IP ⇄ TAP ⇄ socat ⇄ UDP ⇄ the VMM's virtio-net ⇄ the guest's stack
//
// Plain JavaScript (typed by tap-host.d.mts) so that both the vitest test and the on-demand
// benchmark, run with plain node, use the same setup.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';

const has = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

/** What this host lacks for a TAP device (empty: all there). */
export function tapMissing({ ping = false } = {}) {
  return [
    process.getuid?.() !== 0 ? 'root' : '',
    existsSync('/dev/net/tun') ? '' : '/dev/net/tun',
    has('socat') ? '' : 'socat',
    has('ip') ? '' : 'ip (iproute2)',
    ping && !has('ping') ? 'ping (iputils-ping)' : '',
  ].filter((x) => x !== '');
}

export function run(cmd, args, timeoutMs = 10_000) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
}

/** A command run without blocking the event loop, which the machine's devices need. */
export function runAsync(cmd, args, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stdout += d;
    });
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

export async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A /24 in 10.213.0.0/16 that no address or route on the host touches. */
function freeSubnet(salt) {
  const used = `${run('ip', ['-4', '-o', 'addr', 'show']).stdout}\n${run('ip', ['-4', 'route', 'show']).stdout}`;
  for (let k = 0; k < 250; k++) {
    const x = ((process.pid + salt * 31 + k * 7) % 230) + 20;
    if (!used.includes(`10.213.${x}.`)) return x;
  }
  throw new Error('no free /24 in 10.213.0.0/16');
}

async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(() => r()));
  return p;
}

let opened = 0;

/**
 * Picks an interface name, a /24 and two UDP ports. Give `nicSpec` to the VMM's
 * virtioNetDevice() and prepare that device before start(): the guest's end then listens
 * first, so that nothing socat relays meets a closed port.
 */
export async function reserveTap(tag) {
  const salt = opened++;
  const x = freeSubnet(salt);
  const [guestPort, socatPort] = [await freeUdpPort(), await freeUdpPort()];
  const ifname = `uki${(process.pid % 10_000) * 10 + (salt % 10)}${tag}`.slice(0, 15);
  const hostIp = `10.213.${x}.1`;
  const guestIp = `10.213.${x}.2`;
  let socat = null;
  const tap = {
    ifname,
    hostIp,
    guestIp,
    guestCidr: `${guestIp}/24`,
    nicSpec: `udp=127.0.0.1:${socatPort},localaddr=127.0.0.1:${guestPort}`,
    /** Starts socat, which makes the interface with the host's address, and waits for it. */
    async start() {
      socat = spawn(
        'socat',
        [`UDP-DATAGRAM:127.0.0.1:${guestPort},bind=127.0.0.1:${socatPort}`, `TUN:${hostIp}/24,tun-type=tap,iff-no-pi,iff-up,tun-name=${ifname}`],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      socat.stderr.on('data', (d) => {
        err += d;
      });
      const s = socat;
      await waitFor(() => run('ip', ['link', 'show', ifname]).status === 0 || s.exitCode !== null, 5000, `socat to make ${ifname}`);
      if (s.exitCode !== null) throw new Error(`socat failed (${s.exitCode}): ${err}`);
    },
    /** Stops socat and removes the interface; safe to call more than once. */
    close() {
      if (socat !== null && socat.exitCode === null) socat.kill('SIGTERM');
      socat = null;
      if (run('ip', ['link', 'show', ifname]).status === 0) run('ip', ['link', 'del', ifname]);
    },
  };
  return tap;
}
