import { DescFlag, DeviceId, Feature, featureBits, MmioReg, splitRingLayout, Status } from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { DescriptorChain, DeviceQueue, GuestMemory, type VirtioBackend, type VirtioDeviceHandle, VirtioFault, VirtioMmioModel } from '../src/index.js';

/**
 * A hostile guest: random descriptor tables, chains, indirect tables and ring indexes, and
 * random register writes. The host must never throw anything but a VirtioFault from the
 * queue (and nothing at all from a register access), and must never touch memory outside
 * guest RAM: RAM sits between two guard regions whose bytes are checked, and the device's
 * typed views end where RAM ends, so a stray access either throws (and fails the test) or
 * lands in a guard (and fails the test).
 *
 * CI runs 10^5 queue cases; set UK_FUZZ_CASES=1000000 for a longer run.
 */
const CASES = Number(process.env.UK_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.UK_FUZZ_SEED ?? 0x5eed_1234);

const BASE = 0x8000_0000;
const RAM = 64 * 1024;
const GUARD = 4096;
const GUARD_BYTE = 0xa5;

function xorshift(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    next,
    below: (n: number) => next() % n,
    chance: (p: number) => next() / 0x1_0000_0000 < p,
  };
}

function guardedRam() {
  const all = new Uint8Array(GUARD + RAM + GUARD);
  all.fill(GUARD_BYTE, 0, GUARD);
  all.fill(GUARD_BYTE, GUARD + RAM);
  // The device's byte view runs on into the upper guard, so a write past RAM would land there.
  const bytes = all.subarray(GUARD, GUARD + RAM + GUARD);
  const mem = new GuestMemory({ base: BASE, size: RAM, bytes });
  const guardsIntact = () => {
    for (let i = 0; i < GUARD; i++) if (all[i] !== GUARD_BYTE || all[GUARD + RAM + i] !== GUARD_BYTE) return false;
    return true;
  };
  return { all, mem, ram: all.subarray(GUARD, GUARD + RAM), guardsIntact };
}

type Rng = ReturnType<typeof xorshift>;

/** An address the guest might write: mostly in RAM, sometimes at its edges, sometimes anywhere. */
function address(rng: Rng): number {
  const r = rng.below(20);
  if (r < 16) return BASE + rng.below(RAM - 600);
  if (r === 16) return BASE + RAM - rng.below(64);
  if (r === 17) return BASE - rng.below(64);
  if (r === 18) return rng.next();
  return rng.next() * 0x1_0000_0000 + rng.next();
}

function length(rng: Rng): number {
  const r = rng.below(20);
  if (r < 16) return rng.below(600);
  if (r === 16) return 0;
  if (r === 17) return rng.below(RAM + 100);
  return rng.next();
}

function writeRandomDesc(rng: Rng, v: DataView, at: number, size: number): void {
  const addr = address(rng);
  v.setUint32(at, addr >>> 0, true);
  v.setUint32(at + 4, Math.floor(addr / 0x1_0000_0000) >>> 0, true);
  v.setUint32(at + 8, length(rng) >>> 0, true);
  let flags = 0;
  if (rng.chance(0.4)) flags |= DescFlag.Next;
  if (rng.chance(0.3)) flags |= DescFlag.Write;
  if (rng.chance(0.05)) flags |= DescFlag.Indirect;
  if (rng.chance(0.01)) flags |= rng.below(0x10000);
  v.setUint16(at + 12, flags, true);
  v.setUint16(at + 14, rng.chance(0.9) ? rng.below(size + 1) : rng.below(0x10000), true);
}

function checkChain(c: DescriptorChain, ramSize: number): string | undefined {
  if (c.count > c.capacity) return 'chain over capacity';
  if (c.readable > c.count) return 'readable count';
  let rb = 0;
  let wb = 0;
  for (let i = 0; i < c.count; i++) {
    const off = c.offset[i];
    const len = c.length[i];
    if (!(off >= 0 && off + len <= ramSize && len > 0)) return `buffer ${i} at ${off}+${len} outside RAM`;
    if (i < c.readable) rb += len;
    else wb += len;
  }
  if (rb !== c.readableBytes || wb !== c.writableBytes) return 'byte counts';
  return undefined;
}

describe('virtqueue fuzz (device side)', () => {
  it(`survives ${CASES} hostile queue states without leaving guest RAM`, () => {
    const rng = xorshift(SEED);
    const { mem, ram, guardsIntact } = guardedRam();
    const v = mem.view;
    const chain = new DescriptorChain(256);
    const q = new DeviceQueue(256);
    const stats = { pops: 0, faults: 0, pushes: 0, badActivate: 0 };
    for (let n = 0; n < CASES; n++) {
      // A fresh hostile RAM now and then; in between, the previous case's leftovers stay.
      if (n % 64 === 0) for (let i = 0; i < RAM; i += 4) v.setUint32(i, rng.next(), true);
      const size = 1 << rng.below(9);
      const l = splitRingLayout(size);
      q.reset();
      q.size = rng.chance(0.97) ? size : rng.next() & 0xffff;
      const ringOff = (rng.below(RAM) & ~15) >>> 0;
      q.descAddr = rng.chance(0.97) ? BASE + ringOff : address(rng);
      q.driverAddr = rng.chance(0.97) ? BASE + ((ringOff + l.avail) % RAM) : address(rng);
      q.deviceAddr = rng.chance(0.97) ? BASE + ((ringOff + l.used) % RAM) : address(rng);
      q.eventIdx = rng.chance(0.5);
      q.indirect = rng.chance(0.5);
      try {
        q.activate(mem);
      } catch (e) {
        expect(e).toBeInstanceOf(VirtioFault);
        stats.badActivate++;
        continue;
      }
      // Random free-running indexes, to cross the 16-bit wrap.
      q.lastAvail = rng.below(0x10000);
      q.usedIdx = rng.below(0x10000);
      const descOff = q.descAddr - BASE;
      const availOff = q.driverAddr - BASE;
      // The size the device accepted (a hostile QueueNum may have been a valid one too).
      const qn = q.size;
      for (let i = 0; i < qn; i++) writeRandomDesc(rng, v, descOff + 16 * i, qn);
      // Some indirect tables somewhere in RAM.
      for (let t = rng.below(3); t > 0; t--) {
        const at = rng.below(RAM - 16 * 16) & ~15;
        for (let i = 0; i < 16; i++) writeRandomDesc(rng, v, at + 16 * i, 16);
      }
      for (let i = 0; i < qn; i++) v.setUint16(availOff + 4 + 2 * i, rng.chance(0.95) ? rng.below(qn) : rng.below(0x10000), true);
      v.setUint16(availOff + 2, rng.chance(0.8) ? (q.lastAvail + rng.below(qn + 1)) & 0xffff : rng.below(0x10000), true);
      try {
        for (let k = 0; k < qn + 2; k++) {
          if (!q.pop(chain)) break;
          stats.pops++;
          const bad = checkChain(chain, RAM);
          if (bad !== undefined) throw new Error(`case ${n}: ${bad}`);
          // Behave like a device: write the writable buffers, return the chain.
          for (let i = chain.readable; i < chain.count; i++) mem.bytes[chain.offset[i] + chain.length[i] - 1] = 0x5a;
          if (rng.chance(0.8)) {
            q.push(chain.head, rng.next());
            stats.pushes++;
          }
          q.needsInterrupt();
          if (rng.chance(0.3)) q.enableNotifications();
          else q.disableNotifications();
          // The guest scribbles on its ring while the device works.
          if (rng.chance(0.2)) v.setUint32(rng.below(RAM - 4), rng.next(), true);
        }
      } catch (e) {
        if (!(e instanceof VirtioFault)) throw e;
        stats.faults++;
      }
      if (n % 4096 === 0) expect(guardsIntact()).toBe(true);
    }
    expect(guardsIntact()).toBe(true);
    expect(ram.length).toBe(RAM);
    // The generator must reach both outcomes often, or it tests little.
    expect(stats.pops).toBeGreaterThan(CASES / 4);
    expect(stats.faults).toBeGreaterThan(CASES / 10);
  });
});

/** A backend that completes every chain at once after writing its writable buffers. */
class EchoBackend implements VirtioBackend {
  readonly name = 'echo';
  readonly deviceId = DeviceId.Entropy;
  readonly features = featureBits(0, 1);
  readonly queueSizes = [64, 16];
  readonly config = Uint8Array.from({ length: 24 }, (_, i) => i * 7);
  device!: VirtioDeviceHandle;
  completed = 0;
  readonly failures: string[] = [];
  constructor(private readonly rng: Rng) {}
  bind(d: VirtioDeviceHandle) {
    this.device = d;
  }
  notify(index: number, q: DeviceQueue) {
    const c = this.device.newChain(index);
    while (q.pop(c)) {
      const bad = checkChain(c, RAM);
      if (bad !== undefined) this.failures.push(bad);
      for (let i = c.readable; i < c.count; i++) this.device.memory.bytes.fill(0x3c, c.offset[i], c.offset[i] + c.length[i]);
      this.device.complete(index, c.head, this.rng.chance(0.5) ? c.writableBytes : this.rng.next(), this.device.epoch);
      this.completed++;
    }
    if (this.rng.chance(0.05)) this.device.configChanged();
  }
  reset() {}
}

const REGISTERS = Object.values(MmioReg);

describe('virtio-mmio register fuzz', () => {
  it('never throws out of a register access and never leaves guest RAM', () => {
    const rng = xorshift(SEED ^ 0x1234);
    const { mem, guardsIntact } = guardedRam();
    const backend = new EchoBackend(rng);
    let level = false;
    const internal: string[] = [];
    const log = (line: string) => {
      if (line.includes('internal error')) internal.push(line);
    };
    const model = new VirtioMmioModel(backend, { ram: { base: BASE, size: RAM, bytes: mem.bytes }, irq: { set: (l) => (level = l) }, log });
    const rounds = Math.max(2000, CASES / 10);
    let faults = 0;
    for (let n = 0; n < rounds; n++) {
      // Most rounds: a plausible bring-up with hostile numbers in it.
      if (rng.chance(0.7)) {
        model.write(MmioReg.Status, 4, 0);
        model.write(MmioReg.Status, 4, Status.Acknowledge | Status.Driver);
        model.write(MmioReg.DriverFeaturesSel, 4, 1);
        model.write(MmioReg.DriverFeatures, 4, rng.chance(0.9) ? 1 : rng.next());
        model.write(MmioReg.DriverFeaturesSel, 4, 0);
        model.write(MmioReg.DriverFeatures, 4, rng.chance(0.5) ? Number(featureBits(Feature.RingEventIdx, Feature.RingIndirectDesc)) : rng.next());
        model.write(MmioReg.Status, 4, Status.Acknowledge | Status.Driver | Status.FeaturesOk);
        for (let qi = 0; qi < 2; qi++) {
          const size = 1 << rng.below(7);
          const l = splitRingLayout(size);
          const at = rng.chance(0.9) ? BASE + (rng.below(RAM - l.bytes) & ~15) : address(rng);
          model.write(MmioReg.QueueSel, 4, qi);
          model.write(MmioReg.QueueNum, 4, rng.chance(0.95) ? size : rng.next());
          model.write(MmioReg.QueueDescLow, 4, at >>> 0);
          model.write(MmioReg.QueueDescHigh, 4, Math.floor(at / 2 ** 32));
          model.write(MmioReg.QueueDriverLow, 4, (at + l.avail) >>> 0);
          model.write(MmioReg.QueueDriverHigh, 4, 0);
          model.write(MmioReg.QueueDeviceLow, 4, (at + l.used) >>> 0);
          model.write(MmioReg.QueueDeviceHigh, 4, 0);
          model.write(MmioReg.QueueReady, 4, 1);
          // A few requests, mostly well-formed.
          const k = rng.below(size + 1);
          const ao = at - BASE + l.avail;
          if (at - BASE >= 0 && at - BASE + l.bytes <= RAM) {
            for (let i = 0; i < size; i++) writeRandomDesc(rng, mem.view, at - BASE + 16 * i, size);
            for (let i = 0; i < k; i++) mem.view.setUint16(ao + 4 + 2 * i, rng.below(size), true);
            mem.view.setUint16(ao + 2, k, true);
          }
        }
        model.write(MmioReg.Status, 4, Status.Acknowledge | Status.Driver | Status.FeaturesOk | Status.DriverOk);
      }
      // Hostile RAM and hostile registers.
      for (let k = rng.below(20); k > 0; k--) mem.view.setUint32(rng.below(RAM - 4), rng.next(), true);
      for (let k = rng.below(20); k > 0; k--) {
        const reg = rng.chance(0.8) ? REGISTERS[rng.below(REGISTERS.length)] : rng.below(0x1000);
        const size = ([1, 2, 4] as const)[rng.below(3)];
        const off = reg - (reg % size);
        if (rng.chance(0.5)) model.read(off, size);
        else model.write(off, size, reg === MmioReg.QueueNotify ? rng.below(3) : rng.next());
      }
      for (let k = 0; k < 4; k++) model.write(MmioReg.QueueNotify, 4, rng.below(2));
      if (model.status & Status.DeviceNeedsReset) faults++;
      const isr = model.read(MmioReg.InterruptStatus, 4);
      expect(level).toBe(isr !== 0);
      model.write(MmioReg.InterruptAck, 4, isr);
      if (n % 512 === 0) expect(guardsIntact()).toBe(true);
    }
    expect(guardsIntact()).toBe(true);
    expect(internal).toEqual([]);
    expect(backend.failures).toEqual([]);
    expect(backend.completed).toBeGreaterThan(rounds / 10);
    expect(faults).toBeGreaterThan(rounds / 20);
  });
});
