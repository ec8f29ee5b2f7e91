import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, findApp } from '../../../cli/src/index.js';
import { type ExecutionMode, Machine, readImage, virtioNetDevice } from '../../../vmm/src/index.js';
import { hostClient, hostServer, type Transfer, within } from './host-peer.mjs';
import { reserveTap, runAsync, type TapLink, tapMissing, waitFor } from './tap-host.mjs';

/**
 * uk's TCP/IP against Linux's own, through a real TAP device (see tap-host.mjs): pings both
 * ways, TCP connections opened both ways, and a bulk transfer in each of the four directions
 * with FNV-1a checksums computed on both sides. UK_TAP_BYTES sets the size of each transfer.
 */
const missing = tapMissing({ ping: true });
if (missing.length > 0) console.warn(`SKIPPED: the TCP/IP interop test over TAP needs ${missing.join(', ')}`);
const BYTES = Number(process.env.UK_TAP_BYTES ?? 100 * 1024 * 1024);
const STEP_MS = Number(process.env.UK_TAP_STEP_MS ?? 60_000);

const fixture = fileURLToPath(new URL('./fixtures/tapnet', import.meta.url));
let imagePath = '';
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  if (missing.length === 0) imagePath = (await buildApp(findApp(fixture), mkdtempSync(join(tmpdir(), 'uk-tapnet-')))).imagePath;
}, 60_000);

afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const modes: ExecutionMode[] = process.env.UK_TAP_ISOLATED === '1' ? ['inline', 'isolated'] : ['inline'];

describe.skipIf(missing.length > 0).each(modes)('uk and Linux TCP/IP through a real TAP device (%s mode)', (mode) => {
  it('ping each other, open TCP both ways and move data each way with matching checksums', { timeout: 5 * STEP_MS + 60_000 }, async () => {
    const tap: TapLink = await reserveTap(mode === 'inline' ? 'n' : 's');
    cleanups.push(() => tap.close());
    const nic = virtioNetDevice(tap.nicSpec);
    await nic.prepare();
    await tap.start();

    // Host ends for the guest's connections, listening before the guest starts.
    const sink = hostServer(tap.hostIp, 9000, 'sink');
    const source = hostServer(tap.hostIp, 9001, 'source', BYTES);
    cleanups.push(sink.close, source.close);
    await Promise.all([sink.listening, source.listening]);

    let output = '';
    const machine = new Machine({
      image: readImage(imagePath),
      mode,
      bootargs: `ADDR=${tap.guestCidr} HOST=${tap.hostIp} BYTES=${BYTES} -- tapnet ping sink source send recv`,
      devices: [nic],
      timeoutMs: 5 * STEP_MS + 30_000,
      output: (b) => {
        output += new TextDecoder().decode(b);
      },
    });
    const done = machine.run();
    const line = async (re: RegExp, ms = STEP_MS): Promise<RegExpMatchArray> => {
      await waitFor(() => re.test(output) || /panic|unknown step/.test(output), ms, `${re} from the guest; its console so far:\n${output}`);
      const m = output.match(re);
      if (m === null) throw new Error(`the guest failed; its console:\n${output}`);
      return m;
    };
    const guestTransfer = async (name: string): Promise<Transfer> => {
      const m = await line(new RegExp(`${name} bytes=(\\d+) fnv=([0-9a-f]{8}) ms=(\\d+)`));
      return { bytes: Number(m[1]), sum: m[2], ms: Number(m[3]) };
    };
    const report: string[] = [];
    const rate = (what: string, t: Transfer) => report.push(`${what}: ${(t.bytes / 1048576).toFixed(0)} MiB in ${t.ms.toFixed(0)} ms, ${(t.bytes / 1e6 / (t.ms / 1000)).toFixed(1)} MB/s`);

    const guestSays = <T>(p: Promise<T>) => p.catch((e: Error) => Promise.reject(new Error(`${e.message}; the guest's console:\n${output}`)));
    await line(/tapnet ready/, 20_000);
    // The host pings the guest (ARP through Linux's neighbour table, ICMP echo answered by uk).
    const ping = await runAsync('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', tap.ifname, tap.guestIp], 15_000);
    expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(ping.status).toBe(0);
    // The guest pings the host.
    expect((await line(/ping (\S+) ok rtt=/))[1]).toBe(tap.hostIp);

    // Linux connects to uk and sends; uk's sink sums what it got.
    await line(/sink listening/);
    const hostSent = await guestSays(within(STEP_MS, 'host → guest sink', hostClient(tap.guestIp, 7000, 'send', BYTES)));
    const guestGot = await guestTransfer('sink');
    expect(guestGot).toMatchObject({ bytes: BYTES, sum: hostSent.sum });
    rate('Linux → uk (Linux connects)', guestGot);

    // Linux connects to uk and receives.
    await line(/source listening/);
    const hostGot = await guestSays(within(STEP_MS, 'guest source → host', hostClient(tap.guestIp, 7001, 'recv')));
    const guestSent = await guestTransfer('source');
    expect(hostGot).toMatchObject({ bytes: BYTES, sum: guestSent.sum });
    rate('uk → Linux (Linux connects)', hostGot);

    // uk connects to Linux and sends.
    const sinkGot = await guestSays(within(STEP_MS, 'guest → host sink', sink.result));
    const guestSent2 = await guestTransfer('send');
    expect(sinkGot).toMatchObject({ bytes: BYTES, sum: guestSent2.sum });
    rate('uk → Linux (uk connects)', sinkGot);

    // uk connects to Linux and receives.
    const sourceSent = await guestSays(within(STEP_MS, 'host source → guest', source.result));
    const guestGot2 = await guestTransfer('recv');
    expect(guestGot2).toMatchObject({ bytes: BYTES, sum: sourceSent.sum });
    rate('Linux → uk (uk connects)', guestGot2);

    await line(/tapnet done/);
    const result = await within(20_000, 'the guest to power off', done);
    expect(result).toMatchObject({ reason: 'poweroff', exitCode: 0 });
    console.log(`TAP interop (${mode}):\n  ${report.join('\n  ')}`);
  });
});
