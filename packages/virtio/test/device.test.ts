import { compatible, type FdtNode, isEnabled, parseFdt } from '@uk/fdt';
import { type KernelContext, Services } from '@uk/hal';
import { DeviceId, Feature, featureBits, featureWord, MMIO_MAGIC, MmioReg, Status } from '@uk/virtio-spec';
import { describe, expect, it } from 'vitest';
import { buildMachineDtb, type DeviceQueue, type MmioDevice, type SlotDevice, type VirtioBackend, type VirtioDeviceHandle, VirtioMmioModel } from '../../vmm/src/index.js';
import { MmioTransport, TRANSPORT_FEATURES, VirtioMmioDevice, virtioDriver, virtioSlots } from '../src/index.js';
import { fakeMachine, SLOT_BASE } from './fake-machine.js';

/** A device of any ID whose queue 0 echoes every chain back at once. */
class Echo implements VirtioBackend {
  readonly name = 'echo';
  readonly queueSizes = [64];
  readonly config = new Uint8Array(16);
  device!: VirtioDeviceHandle;
  constructor(
    readonly deviceId: number,
    readonly features: bigint,
  ) {}
  bind(d: VirtioDeviceHandle) {
    this.device = d;
  }
  notify(i: number, q: DeviceQueue) {
    const c = this.device.newChain(i);
    while (q.pop(c)) this.device.complete(i, c.head, c.writableBytes, this.device.epoch);
  }
  reset() {}
}

function slot(make: (env: Parameters<SlotDevice['attach']>[0]) => MmioDevice): SlotDevice {
  return { name: 'test', attach: make };
}

const echo = (id: number, features = 0n) => slot((env) => new VirtioMmioModel(new Echo(id, features), { ram: env.ram, irq: env.irq, log: () => {} }));

/** A register file whose answers a test chooses. */
function scripted(regs: (offset: number, reads: number) => number | undefined, onWrite?: (offset: number, v: number) => void): SlotDevice {
  const counts = new Map<number, number>();
  return slot(() => ({
    name: 'scripted',
    read(offset) {
      const n = (counts.get(offset) ?? 0) + 1;
      counts.set(offset, n);
      return regs(offset, n) ?? 0;
    },
    write(offset, _size, v) {
      onWrite?.(offset, v);
    },
  }));
}

function device(m: ReturnType<typeof fakeMachine>, slotIndex = 0): VirtioMmioDevice {
  return new VirtioMmioDevice({ cpu: m.cpu, dma: m.dma, irq: m.irq }, new MmioTransport(m.cpu.mmio, SLOT_BASE + slotIndex * 0x1000), 1 + slotIndex);
}

describe('VirtioMmioDevice', () => {
  it('negotiates what both sides know, with the transport features', async () => {
    const m = fakeMachine([echo(DeviceId.Entropy, featureBits(0, 3, 5))]);
    const d = device(m);
    const f = await d.initialize(featureBits(3, 7));
    expect(f).toBe(featureBits(3) | TRANSPORT_FEATURES);
    expect(d.transport.status).toBe(Status.Acknowledge | Status.Driver | Status.FeaturesOk);
    const q = d.createQueue<string>(0, 1000);
    expect(q.size).toBe(64);
    expect(q.options).toEqual({ eventIdx: true, indirect: true });
    d.driverOk();
    expect(d.transport.status & Status.DriverOk).toBe(Status.DriverOk);
  });

  it('gives up on a legacy device (no VERSION_1) and marks it FAILED', async () => {
    let status = 0;
    let sel = 0;
    const m = fakeMachine([
      scripted(
        (off) => (off === MmioReg.Status ? status : off === MmioReg.DeviceFeatures && sel === 0 ? 0xffff : 0),
        (off, v) => {
          if (off === MmioReg.Status) status = v;
          if (off === MmioReg.DeviceFeaturesSel) sel = v;
        },
      ),
    ]);
    await expect(device(m).initialize(0n)).rejects.toMatchObject({ code: 'ENODEV', message: expect.stringMatching(/legacy device/) });
    expect(status & Status.Failed).toBe(Status.Failed);
  });

  it('fails when the device will not accept the features', async () => {
    let status = 0;
    let sel = 0;
    const m = fakeMachine([
      scripted(
        (off) => {
          if (off === MmioReg.Status) return status & ~Status.FeaturesOk;
          if (off === MmioReg.DeviceFeatures) return featureWord(featureBits(Feature.Version1), sel);
          return 0;
        },
        (off, v) => {
          if (off === MmioReg.Status) status = v;
          if (off === MmioReg.DeviceFeaturesSel) sel = v;
        },
      ),
    ]);
    await expect(device(m).initialize(0n)).rejects.toMatchObject({ code: 'ENODEV', message: expect.stringMatching(/did not accept features/) });
  });

  it('rereads the configuration until the generation holds still', () => {
    const m = fakeMachine([scripted((off, n) => (off === MmioReg.ConfigGeneration ? Math.min(n, 5) : off === MmioReg.Config ? 40 + n : 0))]);
    const d = device(m);
    let tries = 0;
    const v = d.stableConfig(() => {
      tries++;
      return d.transport.config32(0);
    });
    expect(tries).toBe(3);
    expect(v).toBe(43);
    const restless = fakeMachine([scripted((off, n) => (off === MmioReg.ConfigGeneration ? n : 0))]);
    expect(() => device(restless).stableConfig(() => 0)).toThrow(/kept changing/);
  });

  it('waits for a reset to finish, and times out on a device that never finishes', async () => {
    const m = fakeMachine([scripted((off, n) => (off === MmioReg.Status ? (n < 5 ? 1 : 0) : 0))]);
    await device(m).reset();
    const stuck = fakeMachine([scripted((off) => (off === MmioReg.Status ? 1 : 0))]);
    const d = device(stuck);
    // A clock that runs fast so that the test does not wait the real two seconds.
    let t = 0;
    stuck.cpu.readTime = () => (t += 1e8);
    await expect(d.reset()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('delivers used-buffer interrupts and acknowledges them', async () => {
    const m = fakeMachine([echo(DeviceId.Entropy)]);
    const d = device(m);
    await d.initialize(0n);
    const q = d.createQueue<string>(0);
    const got: string[] = [];
    d.listen({
      used: () => {
        do q.drain((t) => got.push(t));
        while (q.enableInterrupts());
      },
    });
    d.driverOk();
    q.enableInterrupts();
    for (const t of ['a', 'b', 'c']) {
      q.begin();
      q.push(m.cpu.ram.base, 8, true);
      q.add(t);
    }
    d.kick(q);
    await m.settle();
    expect(got).toEqual(['a', 'b', 'c']);
    expect(d.transport.interruptStatus()).toBe(0);
  });
});

/** A device whose queue 0 returns chains only when the test says so. */
class Manual implements VirtioBackend {
  readonly name = 'manual';
  readonly deviceId = DeviceId.Entropy;
  readonly features = 0n;
  readonly queueSizes = [8];
  readonly config = new Uint8Array(4);
  device!: VirtioDeviceHandle;
  readonly held: number[] = [];
  bind(d: VirtioDeviceHandle) {
    this.device = d;
  }
  notify(i: number, q: DeviceQueue) {
    const c = this.device.newChain(i);
    while (q.pop(c)) this.held.push(c.head);
  }
  finish() {
    this.device.complete(0, this.held.shift() as number, 0, this.device.epoch);
  }
  reset() {}
}

describe('interrupts with posted writes', () => {
  it('loses no completion that lands between the acknowledgement and its arrival at the device', async () => {
    const backend = new Manual();
    const m = fakeMachine([slot((env) => new VirtioMmioModel(backend, { ram: env.ram, irq: env.irq, log: () => {} }))], 1 << 20, { postedWrites: true });
    const d = device(m);
    await d.initialize(0n);
    const q = d.createQueue<string>(0);
    const got: string[] = [];
    let handled = 0;
    d.listen({
      used: () => {
        handled++;
        do q.drain((t) => got.push(t));
        while (q.enableInterrupts());
        // The device finishes the next request right now, while this handler's writes may still be on their way.
        if (handled === 1) backend.finish();
      },
    });
    d.driverOk();
    for (const t of ['a', 'b']) {
      q.begin();
      q.push(m.cpu.ram.base, 8, true);
      q.add(t);
    }
    d.kick(q);
    await m.settle();
    expect(backend.held).toHaveLength(2);
    backend.finish();
    await m.settle();
    expect(got).toEqual(['a', 'b']);
  });
});

/** Enough of a KernelContext for driver matching. */
function context(m: ReturnType<typeof fakeMachine>, slots: number) {
  const fdt = parseFdt(buildMachineDtb({ memBytes: m.cpu.ram.size, bootargs: '', virtio: Array.from({ length: slots }, (_, slot) => ({ slot })), reserved: [] }));
  const claims = new Map<FdtNode, string>();
  const out: string[] = [];
  const services = new Map<string, unknown>([
    [Services.dma.id, m.dma],
    [Services.irq.id, m.irq],
  ]);
  const ctx = {
    cpu: m.cpu,
    fdt,
    console: { write: (s: string) => out.push(s) },
    get: (k: { id: string }) => services.get(k.id),
    unclaimed: (c: string) => fdt.findCompatible(c).filter((n) => isEnabled(n) && !claims.has(n) && compatible(n).includes(c)),
    claim: (n: FdtNode, d: string) => claims.set(n, d),
  } as unknown as KernelContext;
  return { ctx, claims, out };
}

describe('virtioDriver', () => {
  it('claims only the nodes with its device ID, in slot order, and leaves empty slots alone', async () => {
    const empty = scripted((off) => (off === MmioReg.MagicValue ? MMIO_MAGIC : off === MmioReg.Version ? 2 : 0));
    const m = fakeMachine([echo(DeviceId.Entropy), empty, echo(DeviceId.Net), echo(DeviceId.Entropy)]);
    const { ctx, claims } = context(m, 4);
    expect(virtioSlots(ctx).map((s) => s.deviceId)).toEqual([DeviceId.Entropy, 0, DeviceId.Net, DeviceId.Entropy]);
    const probed: number[] = [];
    const driver = virtioDriver({
      name: 'virtio-rng',
      deviceId: DeviceId.Entropy,
      async probe(dev) {
        probed.push(dev.transport.base);
        expect(dev.irqLine).toBe(1 + (dev.transport.base - SLOT_BASE) / 0x1000);
        await dev.initialize(0n);
      },
    });
    expect(driver.requires).toEqual([Services.irq, Services.dma]);
    await driver.init(ctx);
    expect(probed).toEqual([SLOT_BASE, SLOT_BASE + 0x3000]);
    expect([...claims.values()]).toEqual(['virtio-rng', 'virtio-rng']);
    // The net device is still there for a net driver.
    expect(virtioSlots(ctx).map((s) => s.deviceId)).toEqual([0, DeviceId.Net]);
  });
});
