import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CapturePort, NetSwitch, PcapError, PcapWriter, readPcap } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'uk-pcap-'));
const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

function frames(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const f = Uint8Array.from({ length: 60 + ((i * 97) % 1455) }, (_, k) => (k * 7 + i) & 0xff);
    f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    return f;
  });
}

describe('pcap captures', () => {
  it('writes classic pcap that the reader (and tshark) read back frame for frame', () => {
    const path = join(tmp, 'a.pcap');
    const w = new PcapWriter(path);
    const fs = frames(500);
    for (const f of fs) w.write(f);
    w.close();
    const cap = readPcap(new Uint8Array(readFileSync(path)));
    expect(cap).toMatchObject({ linkType: 1, nanoseconds: false });
    expect(cap.records.length).toBe(500);
    cap.records.forEach((r, i) => {
      expect(Buffer.compare(r.data, fs[i])).toBe(0);
      expect(r.origLen).toBe(fs[i].length);
    });
    const secs = cap.records.map((r) => r.sec + r.nsec / 1e9);
    expect(secs.every((s, i) => i === 0 || s >= secs[i - 1])).toBe(true);
    expect(Math.abs(secs[0] - Date.now() / 1000)).toBeLessThan(600);
    if (hasTshark) {
      const out = execFileSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.len', '-e', 'eth.type'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(out.trim().split('\n')).toEqual(fs.map((f) => `${f.length}\t0x88b5`));
    }
  });

  it('cuts frames at snaplen and keeps their length on the wire, and appends after a reboot', () => {
    const path = join(tmp, 'b.pcap');
    const w = new PcapWriter(path, false, 100);
    w.write(new Uint8Array(300));
    w.close();
    const again = new PcapWriter(path, true, 100);
    again.write(new Uint8Array(50));
    again.close();
    const cap = readPcap(new Uint8Array(readFileSync(path)));
    expect(cap.records.map((r) => [r.data.length, r.origLen])).toEqual([
      [100, 300],
      [50, 50],
    ]);
  });

  it('reads big-endian and nanosecond files, and refuses garbage with a reason', () => {
    const be = new Uint8Array(24 + 16 + 4);
    const v = new DataView(be.buffer);
    v.setUint32(0, 0xa1b23c4d);
    v.setUint16(4, 2);
    v.setUint16(6, 4);
    v.setUint32(16, 65535);
    v.setUint32(20, 1);
    v.setUint32(24, 10);
    v.setUint32(28, 123);
    v.setUint32(32, 4);
    v.setUint32(36, 4);
    be.set([1, 2, 3, 4], 40);
    const cap = readPcap(be);
    expect(cap.nanoseconds).toBe(true);
    expect(cap.records).toEqual([{ sec: 10, nsec: 123, data: Uint8Array.of(1, 2, 3, 4), origLen: 4 }]);
    expect(() => readPcap(new Uint8Array(10))).toThrow(PcapError);
    expect(() => readPcap(new Uint8Array(24))).toThrow(/magic 0x0/);
    expect(() => readPcap(be.subarray(0, 42))).toThrow(/record 1 at byte 24: 4 bytes announced, 2 left/);
    writeFileSync(join(tmp, 'junk'), 'not a capture');
  });

  it('records both directions of a port', async () => {
    const path = join(tmp, 'c.pcap');
    const sw = new NetSwitch('cap');
    const peer = sw.attach();
    const cap = new CapturePort(sw.attach(), new PcapWriter(path));
    const got: Uint8Array[] = [];
    cap.setReceiver((f) => got.push(f.slice()));
    const [a, b] = frames(2);
    b.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
    peer.setReceiver(() => peer.send(b));
    cap.send(a);
    await cap.close();
    expect(got.length).toBe(1);
    const recs = readPcap(new Uint8Array(readFileSync(path))).records.map((r) => r.data);
    expect(recs.map((r) => Buffer.compare(r, r === recs[0] ? a : b))).toEqual([0, 0]);
  });
});
