import { KernelError } from '@uk/hal';
import { type RamWindow, RequestSlots, type SplitQueue, type VirtioMmioDevice } from '@uk/virtio';
import type { Entropy } from '../entropy/service.js';
import { ENTROPY_FEATURES, REQUEST_QUEUE } from '../spec/entropy.js';
import { FillJob } from './fill-job.js';
import { plainWait, type Waiter } from './kernel-wait.js';

export interface VirtioRngOptions {
  /** Entries to ask for in the request queue (default 16; the device may offer fewer). */
  queueSize?: number;
  /** Requests in flight at most (default 4, and never more than the queue holds). */
  maxInFlight?: number;
  /** The most bytes one request asks the device for (default 4096). */
  requestBytes?: number;
}

const DEFAULT_QUEUE_SIZE = 16;
const DEFAULT_IN_FLIGHT = 4;
const DEFAULT_REQUEST_BYTES = 4096;
/** The largest request buffer accepted as an option: 1 MiB of DMA memory per request is plenty. */
const MAX_REQUEST_BYTES = 1 << 20;
/** The smallest part of a buffer worth a request of its own. */
const MIN_PART = 64;
/**
 * Answers of zero bytes in a row after which a fill gives up. A device must write at least
 * one byte (§5.4.6.2); one that keeps writing none is broken, and looping on it would hang.
 */
export const MAX_EMPTY_ANSWERS = 16;

/**
 * A virtio entropy device (virtio 1.2 §5.4) as an Entropy source. Each request is one
 * device-writable buffer in DMA memory owned by a slot (at most `depth` in flight); the used
 * length says how many random bytes arrived, which are copied to the caller. Completion is by
 * interrupt. DEVICE_NEEDS_RESET, or a device that returns buffers it was never given, fails
 * what is in flight with EIO and resets the device; fills after that go on.
 */
export class VirtioRngDevice implements Entropy {
  /** The name it was registered under (rng0, ...), for messages. */
  name = 'virtio-rng';
  /** Requests in flight at most. */
  readonly depth: number;
  /** The most bytes one request asks for. */
  readonly requestBytes: number;
  readonly stats = { requests: 0, bytes: 0, shortAnswers: 0, interrupts: 0, resets: 0 };

  private readonly ram: RamWindow;
  private readonly queue: SplitQueue<number>;
  /** DMA memory: `depth` buffers of `requestBytes`, slot i at bufPa + i * requestBytes. */
  private readonly bufPa: number;
  private readonly bufOff: number;
  private readonly asked: Uint32Array;
  /** Who owns which buffer, the requests waiting for the device's answer, the batched kick. */
  private readonly slots: RequestSlots<number>;
  private readonly onUsedEntry: (slot: number, len: number) => void;

  private constructor(
    readonly device: VirtioMmioDevice,
    options: VirtioRngOptions,
    private readonly wait: Waiter,
  ) {
    const requestBytes = options.requestBytes ?? DEFAULT_REQUEST_BYTES;
    if (!Number.isInteger(requestBytes) || requestBytes < 1 || requestBytes > MAX_REQUEST_BYTES) {
      throw new KernelError('EINVAL', `virtioRng({ requestBytes: ${requestBytes} }): expected a whole number of bytes from 1 to ${MAX_REQUEST_BYTES}`);
    }
    const maxInFlight = options.maxInFlight ?? DEFAULT_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new KernelError('EINVAL', `virtioRng({ maxInFlight: ${maxInFlight} }): expected a whole number of requests, 1 or more`);
    }
    this.ram = device.ram;
    this.requestBytes = requestBytes;
    this.queue = device.createQueue<number>(REQUEST_QUEUE, options.queueSize ?? DEFAULT_QUEUE_SIZE);
    // One descriptor per request, so the queue holds as many requests as it has entries.
    const depth = Math.min(maxInFlight, this.queue.size);
    this.depth = depth;
    this.bufPa = device.env.dma.alloc(depth * requestBytes, 64);
    this.bufOff = this.ram.offset(this.bufPa, depth * requestBytes);
    this.asked = new Uint32Array(depth);
    this.slots = new RequestSlots<number>(depth, () => this.device.kick(this.queue));
    this.onUsedEntry = (slot, len) => this.complete(slot, len);
  }

  /**
   * Initialises the device (no device features to negotiate; one queue; the interrupt) and
   * returns it ready. `wait` is how a fill waits for the device (see kernelWait).
   */
  static async start(device: VirtioMmioDevice, options: VirtioRngOptions = {}, wait: Waiter = plainWait): Promise<VirtioRngDevice> {
    await device.initialize(ENTROPY_FEATURES);
    try {
      const rng = new VirtioRngDevice(device, options, wait);
      device.listen({ used: () => rng.onUsed(), config: () => rng.onConfig() });
      device.driverOk();
      return rng;
    } catch (e) {
      device.fail();
      throw e;
    }
  }

  /** "virtio-mmio@10001000 (entropy)", for messages. */
  get label(): string {
    return this.device.label;
  }

  /** The request queue (for statistics and tests). */
  get requestQueue(): SplitQueue<number> {
    return this.queue;
  }

  fill(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new KernelError('EINVAL', `${this.name}: fill() takes a Uint8Array`));
    if (bytes.length === 0) return Promise.resolve();
    const dead = this.slots.dead;
    if (dead !== undefined) return Promise.reject(dead);
    // One wait for the whole fill: a thread blocks on one thing at a time.
    return this.wait(this.fillAll(bytes));
  }

  /**
   * Up to `depth` requests in flight for one buffer, each asking for the next part still
   * missing. A buffer is cut into at least `depth` parts (of MIN_PART bytes or more), so that
   * a device that answers a little at a time is asked in parallel, not once per round trip.
   */
  private async fillAll(bytes: Uint8Array): Promise<void> {
    const part = Math.min(this.requestBytes, Math.max(MIN_PART, Math.ceil(bytes.length / this.depth)));
    const job = new FillJob(bytes, part);
    const workers = Math.min(this.depth, Math.ceil(bytes.length / part));
    const runs: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      runs.push(
        this.worker(job).catch((e: unknown) => {
          job.failed ??= e instanceof Error ? e : new KernelError('EIO', String(e));
        }),
      );
    }
    await Promise.all(runs);
    if (job.failed !== undefined) throw job.failed;
  }

  private async worker(job: FillJob): Promise<void> {
    for (let part = job.take(); part !== undefined; part = job.take()) {
      const [start, len] = part;
      const slot = await this.slots.acquire();
      let got: number;
      try {
        got = await this.submit(slot, len);
        // A request that failed meanwhile has rejected the fill: leave the caller's buffer be.
        if (job.failed !== undefined) return;
        const off = this.bufOff + slot * this.requestBytes;
        job.bytes.set(this.ram.bytes.subarray(off, off + got), start);
      } finally {
        this.slots.release(slot);
      }
      this.stats.bytes += got;
      if (got < len) this.stats.shortAnswers++;
      job.answered(start, len, got);
      if (job.emptyAnswers >= MAX_EMPTY_ANSWERS) {
        throw new KernelError('EIO', `${this.name}: the device answered ${MAX_EMPTY_ANSWERS} requests in a row with no bytes (it must write at least one); it is not delivering entropy`);
      }
    }
  }

  /** Puts slot's buffer (`len` bytes of it) on the ring; resolves with the bytes the device wrote. */
  private submit(slot: number, len: number): Promise<number> {
    const dead = this.slots.dead;
    if (dead !== undefined) return Promise.reject(dead);
    if (this.slots.paused) return Promise.reject(new KernelError('EIO', `${this.name}: the device is being reset; try again`));
    const q = this.queue;
    q.begin();
    q.push(this.bufPa + slot * this.requestBytes, len, true);
    if (q.add(slot) < 0) {
      // Cannot happen: there are never more slots than ring entries.
      return Promise.reject(new KernelError('EAGAIN', `${this.name}: the request queue is full`));
    }
    this.asked[slot] = len;
    this.stats.requests++;
    // One notification for everything submitted in this turn.
    this.slots.scheduleKick();
    return this.slots.completion(slot);
  }

  /** The device answered: settles the request (the worker that owns the slot releases it). */
  private complete(slot: number, len: number): void {
    const asked = this.asked[slot];
    if (len > asked) {
      this.slots.fail(slot, new KernelError('EIO', `${this.name}: the device says it wrote ${len} bytes into a ${asked}-byte buffer; its answer cannot be trusted`));
      return;
    }
    this.slots.complete(slot, len);
  }

  private onUsed(): void {
    this.stats.interrupts++;
    if (this.slots.paused || this.slots.dead !== undefined) return;
    const q = this.queue;
    q.drainAll(this.onUsedEntry);
    if (q.broken) this.recover('the device returned a buffer it was never given');
  }

  private onConfig(): void {
    // No configuration space (§5.4.4): a configuration interrupt can only mean trouble.
    if (this.device.needsReset()) this.recover('the device set DEVICE_NEEDS_RESET');
  }

  /**
   * Fails every request in flight with EIO, resets the device and sets the queue up again;
   * requests that wait for a slot meanwhile go on afterwards. If the reset fails, the device
   * is dead and every fill fails.
   */
  private recover(reason: string): void {
    const slots = this.slots;
    if (slots.paused || slots.dead !== undefined) return;
    // Slots the failed requests' workers release meanwhile are handed out only after the reset.
    slots.pause();
    this.stats.resets++;
    for (const slot of this.queue.takeOutstanding()) {
      slots.fail(slot, new KernelError('EIO', `${this.name}: a request failed: ${reason}; the device was reset`));
    }
    this.device.recover().then(
      () => slots.resume(),
      (e: unknown) => {
        slots.failAll(new KernelError('EIO', `${this.name}: ${reason}, and resetting it failed (${e instanceof Error ? e.message : String(e)}); the entropy device is gone`));
        this.device.fail();
      },
    );
  }
}
