import {
  availEntryOffset,
  availEventOffset,
  DescFlag,
  DeviceId,
  Feature,
  featureBits,
  InterruptBit,
  MmioReg,
  NET_HDR_SIZE,
  NetFeature,
  NetStatus,
  splitRingLayout,
  Status,
  writeDesc,
} from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { type FramePort, type NetBackendOptions, VirtioMmioModel, VirtioNetBackend } from '../src/index.js';

const BASE = 0x8000_0000;
const RAM = 4 << 20;
const RINGS = [BASE + 0x1000, BASE + 0x8_0000];
const DATA = BASE + 0x10_0000;
const ALL = featureBits(Feature.Version1, Feature.RingEventIdx, NetFeature.Mac, NetFeature.Status, NetFeature.Mtu, NetFeature.Csum, NetFeature.GuestCsum, NetFeature.MrgRxbuf);
const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

/** A FramePort that records what the device sends and lets the test inject frames. */
class TestPort implements FramePort {
  readonly label = 'test';
  readonly sent: Uint8Array[] = [];
  receive: (f: Uint8Array) => void = () => {};
  send(f: Uint8Array) {
    this.sent.push(f.slice());
  }
  setReceiver(r: (f: Uint8Array) => void) {
    this.receive = r;
  }
  close() {}
}

/**
 * A minimal virtio-net driver written from the specification: it sets up the receive and
 * transmit queues at fixed addresses and lets each test put any descriptors it likes on them,
 * well-formed or not.
 */
class MiniNet {
  readonly bytes = new Uint8Array(RAM);
  readonly view = new DataView(this.bytes.buffer);
  readonly port = new TestPort();
  readonly backend: VirtioNetBackend;
  readonly model: VirtioMmioModel;
  readonly size: number;
  level = false;
  logs: string[] = [];
  private readonly l;
  private readonly avail = [0, 0];
  private readonly used = [0, 0];
  private readonly nextDesc = [0, 0];

  constructor(features = ALL, options: Partial<NetBackendOptions> = {}, readonly driverOk = true) {
    this.backend = new VirtioNetBackend(this.port, { mac: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56), ...options });
    this.size = this.backend.queueSizes[0];
    this.l = splitRingLayout(this.size);
    this.model = new VirtioMmioModel(this.backend, { ram: { base: BASE, size: RAM, bytes: this.bytes }, irq: { set: (l) => (this.level = l) }, log: (l) => this.logs.push(l) });
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver);
    this.w(MmioReg.DriverFeaturesSel, 0);
    this.w(MmioReg.DriverFeatures, Number(features & 0xffffffffn));
    this.w(MmioReg.DriverFeaturesSel, 1);
    this.w(MmioReg.DriverFeatures, Number(features >> 32n));
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    for (const q of [0, 1]) {
      this.w(MmioReg.QueueSel, q);
      this.w(MmioReg.QueueNum, this.size);
      this.w(MmioReg.QueueDescLow, RINGS[q]);
      this.w(MmioReg.QueueDriverLow, RINGS[q] + this.l.avail);
      this.w(MmioReg.QueueDeviceLow, RINGS[q] + this.l.used);
      this.w(MmioReg.QueueReady, 1);
    }
    if (driverOk) this.start();
  }

  start(): void {
    this.w(MmioReg.Status, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
  }

  r(reg: number): number {
    return this.model.read(reg, 4);
  }

  w(reg: number, v: number): void {
    this.model.write(reg, 4, v);
  }

  get status(): number {
    return this.r(MmioReg.Status);
  }

  /** Puts chains of [pa, len, writable] on queue q (without notifying); returns their heads. */
  add(q: number, chains: Array<Array<[number, number, boolean]>>): number[] {
    const ring = RINGS[q] - BASE;
    const heads: number[] = [];
    for (const bufs of chains) {
      const head = this.nextDesc[q];
      bufs.forEach(([pa, len, wr], i) => {
        const d = (head + i) % this.size;
        const last = i === bufs.length - 1;
        writeDesc(this.view, ring + 16 * d, pa, len, (last ? 0 : DescFlag.Next) | (wr ? DescFlag.Write : 0), (d + 1) % this.size);
      });
      this.nextDesc[q] = (head + bufs.length) % this.size;
      this.view.setUint16(ring + this.l.avail + availEntryOffset(this.avail[q] % this.size), head, true);
      this.avail[q] = (this.avail[q] + 1) & 0xffff;
      heads.push(head);
    }
    this.view.setUint16(ring + this.l.avail + 2, this.avail[q], true);
    return heads;
  }

  notify(q: number): void {
    this.w(MmioReg.QueueNotify, q);
  }

  /** Receive buffers of `len` bytes each, one descriptor per chain, at DATA + i * 0x1000. */
  postRx(count: number, len = 2048, from = 0): number[] {
    return this.add(
      0,
      Array.from({ length: count }, (_, i) => [[DATA + (from + i) * 0x1000, len, true]] as Array<[number, number, boolean]>),
    );
  }

  /** Used entries of queue q returned since the last call, as [id, len]. */
  takeUsed(q: number): Array<[number, number]> {
    const ring = RINGS[q] - BASE;
    const idx = this.view.getUint16(ring + this.l.used + 2, true);
    const out: Array<[number, number]> = [];
    while (this.used[q] !== idx) {
      const at = ring + this.l.used + 4 + 8 * (this.used[q] % this.size);
      out.push([this.view.getUint32(at, true), this.view.getUint32(at + 4, true)]);
      this.used[q] = (this.used[q] + 1) & 0xffff;
    }
    return out;
  }

  availEvent(q: number): number {
    return this.view.getUint16(RINGS[q] - BASE + this.l.used + availEventOffset(this.size), true);
  }

  at(pa: number, len: number): Uint8Array {
    return this.bytes.subarray(pa - BASE, pa - BASE + len);
  }
}

function frame(size: number, seed = 1): Uint8Array {
  const f = Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff);
  f.set([0x52, 0x54, 0, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  return f;
}

function header(flags = 0, gso = 0, csumStart = 0, csumOffset = 0): Uint8Array {
  const h = new Uint8Array(NET_HDR_SIZE);
  const v = new DataView(h.buffer);
  h[0] = flags;
  h[1] = gso;
  v.setUint16(6, csumStart, true);
  v.setUint16(8, csumOffset, true);
  return h;
}

describe('the virtio-net device model', () => {
  it('offers its features and shows MAC, link status and MTU in the configuration space', () => {
    const n = new MiniNet(ALL, { mtu: 4000 }, false);
    expect(n.r(MmioReg.DeviceId)).toBe(DeviceId.Net);
    n.w(MmioReg.DeviceFeaturesSel, 0);
    const lo = n.r(MmioReg.DeviceFeatures);
    for (const f of [NetFeature.Mac, NetFeature.Status, NetFeature.Mtu, NetFeature.Csum, NetFeature.GuestCsum, NetFeature.MrgRxbuf]) expect((lo >>> f) & 1).toBe(1);
    expect((lo >>> NetFeature.CtrlVq) & 1).toBe(0);
    const cfg = Array.from({ length: 12 }, (_, i) => n.model.read(MmioReg.Config + i, 1));
    expect(cfg.slice(0, 6)).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    expect(n.model.read(MmioReg.Config + 6, 2)).toBe(NetStatus.LinkUp);
    expect(n.model.read(MmioReg.Config + 10, 2)).toBe(4000);
  });

  it('drops frames that come before DRIVER_OK, and delivers into a buffer after', () => {
    const n = new MiniNet(ALL, {}, false);
    n.postRx(4);
    n.port.receive(frame(100));
    expect(n.backend.stats.rxDropped).toBe(1);
    n.start();
    const f = frame(100, 7);
    n.port.receive(f);
    const used = n.takeUsed(0);
    expect(used).toEqual([[0, NET_HDR_SIZE + 100]]);
    const h = n.at(DATA, NET_HDR_SIZE);
    expect(h[10]).toBe(1); // num_buffers
    expect(h[0]).toBe(0); // not TCP/UDP: nothing verified
    expect(Buffer.compare(n.at(DATA + NET_HDR_SIZE, 100), f)).toBe(0);
    expect(n.level).toBe(true);
    expect(n.r(MmioReg.InterruptStatus) & InterruptBit.UsedBuffer).toBe(InterruptBit.UsedBuffer);
  });

  it('spreads a large frame over mergeable buffers, and waits for more buffers halfway without losing it', () => {
    const n = new MiniNet(ALL, { mtu: 9000 });
    n.postRx(1);
    n.notify(0);
    const big = frame(5000, 3);
    n.port.receive(big);
    n.port.receive(frame(60, 4));
    // One buffer taken, the frame waits for two more; the device asked to hear of them.
    expect(n.takeUsed(0)).toEqual([]);
    expect(n.backend.waiting).toBe(2);
    expect(n.availEvent(0)).toBe(1);
    n.postRx(3, 2048, 1);
    n.notify(0);
    const used = n.takeUsed(0);
    expect(used).toEqual([
      [0, 2048],
      [1, 2048],
      [2, 5000 + NET_HDR_SIZE - 4096],
      [3, 60 + NET_HDR_SIZE],
    ]);
    expect(n.at(DATA, NET_HDR_SIZE)[10]).toBe(3);
    const joined = new Uint8Array(5000);
    joined.set(n.at(DATA + NET_HDR_SIZE, 2048 - NET_HDR_SIZE), 0);
    joined.set(n.at(DATA + 0x1000, 2048), 2048 - NET_HDR_SIZE);
    joined.set(n.at(DATA + 0x2000, 5000 - (4096 - NET_HDR_SIZE)), 4096 - NET_HDR_SIZE);
    expect(Buffer.compare(joined, big)).toBe(0);
    expect(n.backend.waiting).toBe(0);
  });

  it('writes the header across descriptors when the driver splits it', () => {
    const n = new MiniNet(ALL);
    n.add(0, [
      [
        [DATA, 5, true],
        [DATA + 0x1000, 2000, true],
      ],
    ]);
    n.notify(0);
    const f = frame(300, 9);
    n.port.receive(f);
    expect(n.takeUsed(0)).toEqual([[0, 312]]);
    expect(n.at(DATA + 0x1000, 7)[5]).toBe(1); // num_buffers, byte 10 of the header
    expect(Buffer.compare(n.at(DATA + 0x1000 + 7, 300), f)).toBe(0);
  });

  it('without mergeable buffers, returns a buffer too small for a frame empty and drops the frame', () => {
    const n = new MiniNet(ALL & ~featureBits(NetFeature.MrgRxbuf));
    n.postRx(2, 200);
    n.notify(0);
    n.port.receive(frame(500));
    n.port.receive(frame(100));
    expect(n.takeUsed(0)).toEqual([
      [0, 0],
      [1, 112],
    ]);
    expect(n.backend.stats.rxTooBig).toBe(1);
  });

  it('keeps a bounded backlog while the guest has no buffers and delivers it in order', () => {
    const n = new MiniNet(ALL, { backlog: 20 });
    for (let i = 0; i < 30; i++) n.port.receive(frame(64, i));
    expect(n.backend.stats).toMatchObject({ rxDropped: 10, backlogPeak: 20 });
    n.postRx(32);
    n.notify(0);
    const used = n.takeUsed(0);
    expect(used.length).toBe(20);
    for (let i = 0; i < 20; i++) expect(n.at(DATA + i * 0x1000 + NET_HDR_SIZE + 14, 1)[0]).toBe(frame(64, i)[14]);
  });

  it('marks received TCP/UDP frames whose checksum it verified (GUEST_CSUM)', () => {
    const n = new MiniNet(ALL);
    n.postRx(2);
    n.notify(0);
    const udp = udpFrame(false);
    n.port.receive(udp);
    const bad = udpFrame(false);
    bad[bad.length - 1] ^= 1;
    n.port.receive(bad);
    expect(n.at(DATA, 1)[0]).toBe(2); // DATA_VALID
    expect(n.at(DATA + 0x1000, 1)[0]).toBe(0);
    expect(n.backend.stats.csumVerified).toBe(1);
  });

  it('sends frames with the header split off, finishes partial checksums, and drops GSO frames it never offered', () => {
    const n = new MiniNet(ALL);
    const a = frame(200, 5);
    n.at(DATA, NET_HDR_SIZE).set(header());
    n.at(DATA + 0x1000, 200).set(a);
    const partial = udpFrame(true);
    n.at(DATA + 0x2000, NET_HDR_SIZE).set(header(1, 0, 34, 6));
    n.at(DATA + 0x2000 + NET_HDR_SIZE, partial.length).set(partial);
    n.at(DATA + 0x3000, NET_HDR_SIZE + 100).set(header(0, 1));
    n.add(1, [
      [
        [DATA, NET_HDR_SIZE, false],
        [DATA + 0x1000, 200, false],
      ],
      [[DATA + 0x2000, NET_HDR_SIZE + partial.length, false]],
      [[DATA + 0x3000, NET_HDR_SIZE + 100, false]],
    ]);
    n.notify(1);
    expect(n.takeUsed(1).map(([id]) => id)).toEqual([0, 2, 3]);
    expect(n.port.sent.length).toBe(2);
    expect(Buffer.compare(n.port.sent[0], a)).toBe(0);
    expect(Buffer.compare(n.port.sent[1], udpFrame(false))).toBe(0);
    expect(n.backend.stats).toMatchObject({ txFrames: 2, txDropped: 1, csumFinished: 1 });
    expect(n.logs.join('\n')).toMatch(/GSO frame/);
  });

  it('sets DEVICE_NEEDS_RESET for a transmit request without a header, and for a receive buffer smaller than one', () => {
    const t = new MiniNet(ALL);
    t.add(1, [[[DATA, 8, false]]]);
    t.notify(1);
    expect(t.status & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
    expect(t.model.lastFault).toMatch(/lacks the 12-byte virtio-net header/);
    const r = new MiniNet(ALL);
    r.postRx(1, 8);
    r.notify(0);
    r.port.receive(frame(64));
    expect(r.status & Status.DeviceNeedsReset).toBe(Status.DeviceNeedsReset);
    expect(r.model.lastFault).toMatch(/less than the 12-byte header/);
    // Reset clears it, and the device works again.
    r.w(MmioReg.Status, 0);
    expect(r.status).toBe(0);
  });

  it('sends a long transmit queue in bursts, letting the event loop in between', async () => {
    const n = new MiniNet(ALL, { queueSize: 1024 });
    const chains: Array<Array<[number, number, boolean]>> = [];
    for (let i = 0; i < 600; i++) {
      const pa = DATA + i * 128;
      n.at(pa, NET_HDR_SIZE).set(header());
      n.at(pa + NET_HDR_SIZE, 64).set(frame(64, i));
      chains.push([[pa, NET_HDR_SIZE + 64, false]]);
    }
    n.add(1, chains);
    n.notify(1);
    expect(n.port.sent.length).toBe(256);
    await settle();
    expect(n.port.sent.length).toBe(600);
    expect(n.takeUsed(1).length).toBe(600);
  });

  it('reports link changes through the configuration space and drops frames while down', () => {
    const n = new MiniNet(ALL);
    n.postRx(2);
    n.notify(0);
    n.r(MmioReg.InterruptStatus);
    n.backend.setLink(false);
    expect(n.model.read(MmioReg.Config + 6, 2) & NetStatus.LinkUp).toBe(0);
    expect(n.r(MmioReg.InterruptStatus) & InterruptBit.ConfigChange).toBe(InterruptBit.ConfigChange);
    n.port.receive(frame(64));
    expect(n.takeUsed(0)).toEqual([]);
    n.backend.setLink(true);
    n.port.receive(frame(64));
    expect(n.takeUsed(0).length).toBe(1);
  });
});

/** A UDP/IPv4 frame 10.0.0.1:1 → 10.0.0.2:2 with payload "hello!"; `partial`: pseudo-header sum in the checksum field. */
function udpFrame(partial: boolean): Uint8Array {
  const payload = new TextEncoder().encode('hello!');
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  const v = new DataView(f.buffer);
  f.set([0x52, 0x54, 0, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  f.set([0x45, 0, 0, 20 + 8 + payload.length, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  let s = 0;
  for (let i = 14; i < 34; i += 2) s += v.getUint16(i);
  v.setUint16(24, ~fold(s) & 0xffff);
  v.setUint16(34, 1);
  v.setUint16(36, 2);
  v.setUint16(38, 8 + payload.length);
  f.set(payload, 42);
  const pseudo = 0x0a00 + 1 + 0x0a00 + 2 + 17 + 8 + payload.length;
  if (partial) v.setUint16(40, fold(pseudo));
  else {
    let sum = pseudo;
    for (let i = 34; i < f.length; i += 2) sum += v.getUint16(i);
    v.setUint16(40, ~fold(sum) & 0xffff);
  }
  return f;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}
