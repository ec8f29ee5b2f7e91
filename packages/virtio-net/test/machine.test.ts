import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../cli/src/index.js';
import { type ExecutionMode, formatMac, LinkImpairment, Machine, NetSwitch, readImage, readPcap, type SlotDevice, virtioNetDevice } from '../../vmm/src/index.js';
import { frameSeq, testFrame } from './frames.js';

const tmp = mkdtempSync(join(tmpdir(), 'uk-netapp-'));
const fixture = fileURLToPath(new URL('./fixtures/netapp', import.meta.url));
const REFLECTOR = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
const GUEST = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);
const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
let imagePath = '';
let runs = 0;

beforeAll(async () => {
  imagePath = (await buildApp(findApp(fixture), tmp)).imagePath;
  if (!hasTshark) console.warn('tshark is not installed: captures are checked with the built-in pcap reader only');
});

async function boot(mode: ExecutionMode, bootargs: string, devices: SlotDevice[]) {
  let output = '';
  const result = await new Machine({
    image: readImage(imagePath),
    mode,
    bootargs,
    devices,
    timeoutMs: 30_000,
    output: (b) => {
      output += new TextDecoder().decode(b);
    },
  }).run();
  return { result, output };
}

/** A frame with its two addresses swapped: what a reflector sends back. */
function swapped(f: Uint8Array): Uint8Array {
  const r = f.slice();
  r.set(f.subarray(0, 6), 6);
  r.set(f.subarray(6, 12), 0);
  return r;
}

/**
 * The capture of an echo run holds exactly the n frames the guest sent, in order, and the n
 * that came back — checked with the built-in reader and, when it is installed, with tshark.
 */
function checkEchoCapture(path: string, n: number, size: number): void {
  const cap = readPcap(new Uint8Array(readFileSync(path)));
  expect(cap.linkType).toBe(1);
  expect(cap.records.length).toBe(2 * n);
  const out = cap.records.filter((r) => formatMac(r.data.subarray(6, 12)) === formatMac(GUEST)).map((r) => r.data);
  const back = cap.records.filter((r) => formatMac(r.data.subarray(0, 6)) === formatMac(GUEST)).map((r) => r.data);
  expect(out.length).toBe(n);
  expect(back.length).toBe(n);
  out.forEach((f, i) => expect(Buffer.compare(f, testFrame(REFLECTOR, GUEST, i, size))).toBe(0));
  back.forEach((f, i) => expect(Buffer.compare(f, swapped(testFrame(REFLECTOR, GUEST, i, size)))).toBe(0));
  if (hasTshark) {
    const text = execFileSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.len', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'eth.type'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = text.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.length).toBe(2 * n);
    rows.forEach((row, i) => {
      const d = cap.records[i].data;
      expect(row).toEqual([String(d.length), formatMac(d.subarray(6, 12)), formatMac(d.subarray(0, 6)), '0x88b5']);
    });
  }
}

describe.each(['inline', 'isolated'] as const)('a guest with virtio-net (%s mode)', (mode) => {
  it('sends frames through a switch to a reflector and gets them back; the capture holds exactly those', async () => {
    const name = `echo-${process.pid}-${runs++}`;
    const reflector = NetSwitch.named(name).attach({ label: 'reflector' });
    reflector.setReceiver((f) => reflector.send(swapped(f)));
    const pcap = join(tmp, `switch-${mode}.pcap`);
    const { result, output } = await boot(mode, 'netapp echo 300 300 16', [virtioNetDevice(`switch=${name},pcap=${pcap}`)]);
    expect(output).toMatch(/virtio-net: eth0: 52:54:00:12:34:56, mtu 1500, link up, queues 256\/256, csum guest-csum mrg-rxbuf event-idx/);
    expect(output).toMatch(/echo ok n=300 back=300 bad=0/);
    expect(result).toMatchObject({ reason: 'poweroff', exitCode: 0 });
    expect(reflector.stats).toMatchObject({ sent: 300, received: 300 });
    reflector.close();
    checkEchoCapture(pcap, 300, 300);
  });

  it('sends full-size frames over UDP to a host socket and gets them back; the capture holds exactly those', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    let datagrams = 0;
    sock.on('message', (m, rinfo) => {
      datagrams++;
      sock.send(swapped(new Uint8Array(m)), rinfo.port, rinfo.address);
    });
    const pcap = join(tmp, `udp-${mode}.pcap`);
    try {
      const { result, output } = await boot(mode, 'netapp echo 300 1514 32', [virtioNetDevice(`udp=127.0.0.1:${sock.address().port},pcap=${pcap}`)]);
      expect(output).toMatch(/echo ok n=300 back=300 bad=0/);
      expect(result.exitCode).toBe(0);
      expect(datagrams).toBe(300);
    } finally {
      sock.close();
    }
    checkEchoCapture(pcap, 300, 1514);
  });

  it('meets the same losses, duplicates and reorderings on a seeded lossy cable in either mode', async () => {
    const name = `lossy-${process.pid}-${runs++}`;
    const impairment = { loss: 0.1, dup: 0.05, reorder: 0.05, seed: 42 };
    const host = NetSwitch.named(name).attach({ label: 'host' });
    const got: number[] = [];
    host.setReceiver((f) => got.push(frameSeq(f)));
    const n = 600;
    const { result, output } = await boot(mode, `netapp blast ${n} 100`, [virtioNetDevice(`switch=${name},loss=0.1,dup=0.05,reorder=0.05,seed=42`)]);
    expect(output).toMatch(/blast ok sent=600/);
    expect(result.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    host.close();
    // What the cable must have done to frames 0..n-1, replayed from the seed alone.
    const expected: number[] = [];
    const replay = new LinkImpairment(impairment, (f) => expected.push(frameSeq(f)));
    for (let i = 0; i < n; i++) replay.pass(testFrame(REFLECTOR, GUEST, i, 100));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(expected);
    expect(new Set(got).size).toBeLessThan(n);
    expect(got.length).toBeGreaterThan(new Set(got).size);
  });

  it('names several NICs eth0, eth1 in slot order with their own MACs, and joins them through a switch', async () => {
    const name = `cross-${process.pid}-${runs++}`;
    const devices = () => [virtioNetDevice(`switch=${name}`), virtioNetDevice(`switch=${name},mac=52:54:00:ab:cd:ef`)];
    const info = await boot(mode, 'netapp info', devices());
    expect(info.output).toContain('nics eth0 eth1');
    expect(info.output).toContain('eth0 52:54:00:12:34:56 mtu=1500 up=true');
    expect(info.output).toContain('eth1 52:54:00:ab:cd:ef mtu=1500 up=true');
    const cross = await boot(mode, 'netapp cross 200 128 8', devices());
    expect(cross.output).toMatch(/cross ok n=200 back=200 bad=0/);
    expect(cross.result.exitCode).toBe(0);
    expect(NetSwitch.named(name).portCount).toBe(0);
  });
});
