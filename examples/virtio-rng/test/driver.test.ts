import { isKernelError, type KernelContext, KernelError, Services, type ThreadSpawner } from '@uk/hal';
import { DeviceId } from '@uk/virtio-spec';
import { type DescriptorChain, type DeviceQueue, type SlotDevice, type VirtioBackend, type VirtioDeviceHandle, VirtioFault, VirtioMmioModel } from '@uk/vmm';
import { describe, expect, it } from 'vitest';
import { seededSource, virtioRngDevice, type VirtioRngDeviceOptions } from '../src/device/index.js';
import { kernelWait, MAX_EMPTY_ANSWERS, VirtioRngDevice, type VirtioRngOptions } from '../src/index.js';
import { fakeMachine } from './fake-machine.js';

// The driver against the device model in one process: the real @uk/virtio transport and
// split queue on one side, the VMM's virtio-mmio model and this package's backend on the other.

async function setup(device: VirtioRngDeviceOptions = {}, driver: VirtioRngOptions = {}) {
  const slot = virtioRngDevice({ log: () => {}, ...device });
  const m = fakeMachine([slot]);
  const rng = await VirtioRngDevice.start(m.device(), driver);
  return { rng, slot, m };
}

function stream(seed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  seededSource(seed)(out);
  return out;
}

/** How often each byte value occurs: equal histograms mean the same bytes, in any order. */
function histogram(bytes: Uint8Array): number[] {
  const h = new Array<number>(256).fill(0);
  for (const b of bytes) h[b]++;
  return h;
}

/** A device whose answers a test scripts: `answer` returns the used length, or throws. */
class ScriptedBackend implements VirtioBackend {
  readonly name = 'scripted-rng';
  readonly deviceId = DeviceId.Entropy;
  readonly features = 0n;
  readonly queueSizes = [16];
  readonly config = new Uint8Array(0);
  requests = 0;
  private device!: VirtioDeviceHandle;

  constructor(private readonly answer: (chain: DescriptorChain, n: number) => number) {}

  bind(device: VirtioDeviceHandle): void {
    this.device = device;
  }

  notify(_index: number, queue: DeviceQueue): void {
    const chain = this.device.newChain(0);
    do {
      queue.disableNotifications();
      while (queue.pop(chain)) {
        const len = this.answer(chain, this.requests++);
        for (const v of chain.views(this.device.memory.bytes, true, 0, Math.min(len, chain.writableBytes))) v.fill(0xa5);
        this.device.complete(0, chain.head, len, this.device.epoch);
      }
    } while (queue.enableNotifications());
  }

  reset(): void {}
}

function scripted(answer: (chain: DescriptorChain, n: number) => number): SlotDevice {
  return {
    name: 'scripted-rng',
    attach: (env) => new VirtioMmioModel(new ScriptedBackend(answer), { ram: env.ram, irq: env.irq, log: () => {} }),
  };
}

async function rejection(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (e) {
    if (isKernelError(e)) return e;
    throw e;
  }
  throw new Error('expected the promise to reject');
}

describe('VirtioRngDevice', () => {
  it('fills a buffer with the bytes the device produced, in order, with requests in parallel', async () => {
    const { rng, slot } = await setup({ source: seededSource(11) });
    const out = new Uint8Array(4096);
    await rng.fill(out);
    expect(out).toEqual(stream(11, 4096));
    // Four parts of 1024 bytes, one per request slot, all in flight together.
    expect(rng.stats.requests).toBe(4);
    expect(rng.stats.interrupts).toBe(1);
    expect(slot.backend?.stats.bytes).toBe(4096);
    expect(rng.requestQueue.inFlight).toBe(0);
  });

  it('asks again for what a short answer left out, until every byte is written', async () => {
    const { rng, slot } = await setup({ source: seededSource(3), bytesPerRequest: 7 }, { requestBytes: 64, maxInFlight: 4 });
    const out = new Uint8Array(1000);
    await rng.fill(out);
    // The device handed out exactly 1000 bytes of its stream, and each landed once.
    expect(slot.backend?.stats.bytes).toBe(1000);
    expect(histogram(out)).toEqual(histogram(stream(3, 1000)));
    expect(rng.stats.shortAnswers).toBeGreaterThan(0);
    // Each 64-byte part takes ceil(64 / 7) answers; the last part of 40 bytes ceil(40 / 7).
    expect(rng.stats.requests).toBe(Math.floor(1000 / 64) * Math.ceil(64 / 7) + Math.ceil((1000 % 64) / 7));
  });

  it('serves many fills at once with more fills than request slots', async () => {
    const { rng, slot } = await setup({ source: seededSource(8), bytesPerRequest: 50 }, { requestBytes: 128, maxInFlight: 2 });
    const bufs = Array.from({ length: 20 }, (_, i) => new Uint8Array(1 + i * 37));
    await Promise.all(bufs.map((b) => rng.fill(b)));
    const total = bufs.reduce((s, b) => s + b.length, 0);
    expect(slot.backend?.stats.bytes).toBe(total);
    const all = new Uint8Array(total);
    let at = 0;
    for (const b of bufs) {
      all.set(b, at);
      at += b.length;
    }
    expect(histogram(all)).toEqual(histogram(stream(8, total)));
  });

  it('takes an empty fill without a request, and refuses what is not a Uint8Array', async () => {
    const { rng } = await setup();
    await rng.fill(new Uint8Array(0));
    expect(rng.stats.requests).toBe(0);
    expect((await rejection(rng.fill([1, 2, 3] as unknown as Uint8Array))).code).toBe('EINVAL');
  });

  it('refuses options that make no sense', async () => {
    const m = fakeMachine([virtioRngDevice({ log: () => {} })]);
    await expect(VirtioRngDevice.start(m.device(), { requestBytes: 0 })).rejects.toThrow(/requestBytes: 0/);
  });

  it('fails a fill with EIO when the device keeps answering no bytes', async () => {
    const m = fakeMachine([scripted(() => 0)]);
    const rng = await VirtioRngDevice.start(m.device());
    const e = await rejection(rng.fill(new Uint8Array(32)));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/answered 16 requests in a row with no bytes/);
    expect(rng.stats.requests).toBe(MAX_EMPTY_ANSWERS);
  });

  it('goes on through a few empty answers', async () => {
    const m = fakeMachine([scripted((chain, n) => (n % 3 === 2 ? chain.writableBytes : 0))]);
    const rng = await VirtioRngDevice.start(m.device());
    const out = new Uint8Array(100);
    await rng.fill(out);
    expect(out.every((b) => b === 0xa5)).toBe(true);
  });

  it('fails a fill with EIO when the device claims more bytes than the buffer holds', async () => {
    const m = fakeMachine([scripted((chain) => chain.writableBytes + 1)]);
    const rng = await VirtioRngDevice.start(m.device());
    const e = await rejection(rng.fill(new Uint8Array(10)));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/wrote 11 bytes into a 10-byte buffer/);
  });

  it('fails what is in flight with EIO when the device needs a reset, resets it, and fills again', async () => {
    const m = fakeMachine([
      scripted((chain, n) => {
        if (n === 0) throw new VirtioFault('the test breaks the device');
        return chain.writableBytes;
      }),
    ]);
    const rng = await VirtioRngDevice.start(m.device());
    const e = await rejection(rng.fill(new Uint8Array(10)));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/DEVICE_NEEDS_RESET; the device was reset/);
    const out = new Uint8Array(10);
    await rng.fill(out);
    expect(out.every((b) => b === 0xa5)).toBe(true);
    expect(rng.stats.resets).toBe(1);
  });
});

describe('kernelWait', () => {
  const ctx = (sched?: Partial<ThreadSpawner>): Pick<KernelContext, 'tryGet'> => ({
    tryGet: (<T>(key: { id: string }) => (key.id === Services.scheduler.id ? sched : undefined) as T | undefined) as KernelContext['tryGet'],
  });

  it('blocks the thread through the scheduler when there is one', async () => {
    const waited: Promise<unknown>[] = [];
    const wait = kernelWait(
      ctx({
        waitFor: <T>(p: Promise<T>) => {
          waited.push(p);
          return p;
        },
      }),
    );
    const p = Promise.resolve(5);
    expect(await wait(p)).toBe(5);
    expect(waited).toEqual([p]);
  });

  it('falls back to a plain await outside a thread or without a scheduler', async () => {
    const outside = kernelWait(
      ctx({
        waitFor: () => {
          throw new KernelError('EPERM', 'not in a thread');
        },
      }),
    );
    expect(await outside(Promise.resolve(1))).toBe(1);
    expect(await kernelWait(ctx())(Promise.resolve(2))).toBe(2);
  });
});
