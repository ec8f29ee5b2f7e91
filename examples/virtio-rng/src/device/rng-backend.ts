import type { DescriptorChain, DeviceQueue, VirtioBackend, VirtioDeviceHandle } from '@uk/vmm';
import { VirtioFault } from '@uk/vmm';
import { DeviceId, isValidQueueSize } from '@uk/virtio-spec';
import { ENTROPY_CONFIG_BYTES, ENTROPY_FEATURES, REQUEST_QUEUE } from '../spec/entropy.js';
import { cryptoSource, type RandomSource } from './random-source.js';

export interface RngBackendOptions {
  /** Where the bytes come from (default: the host's crypto generator). */
  readonly source?: RandomSource;
  /**
   * The most bytes one request gets (default: as many as its buffers hold). A smaller number
   * makes the device answer with less than was asked, as the specification allows.
   */
  readonly bytesPerRequest?: number;
  /** Entries of the request queue (default 64). */
  readonly queueSize?: number;
}

/**
 * The virtio entropy device (virtio 1.2 §5.4): every chain the driver makes available on the
 * request queue is filled with random bytes and returned at once, with the used length
 * saying how many. A chain with a device-readable buffer, or with no room for a byte, breaks
 * the driver's side of the protocol (§5.4.6.1): the device reports it with a VirtioFault,
 * which the model turns into DEVICE_NEEDS_RESET.
 */
export class VirtioRngBackend implements VirtioBackend {
  readonly name = 'virtio-rng';
  readonly deviceId = DeviceId.Entropy;
  readonly features = ENTROPY_FEATURES;
  readonly queueSizes: readonly number[];
  readonly config = new Uint8Array(ENTROPY_CONFIG_BYTES);
  readonly stats = { requests: 0, bytes: 0 };
  private readonly source: RandomSource;
  private readonly limit: number;
  private device!: VirtioDeviceHandle;

  constructor(options: RngBackendOptions = {}) {
    const qsize = options.queueSize ?? 64;
    if (!isValidQueueSize(qsize)) throw new RangeError(`queueSize ${qsize}: expected a power of two from 1 to 32768`);
    const limit = options.bytesPerRequest ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1) || (limit !== Number.POSITIVE_INFINITY && !Number.isInteger(limit))) {
      throw new RangeError(`bytesPerRequest ${limit}: expected a whole number of bytes, 1 or more`);
    }
    this.queueSizes = [qsize];
    this.source = options.source ?? cryptoSource;
    this.limit = limit;
  }

  bind(device: VirtioDeviceHandle): void {
    this.device = device;
  }

  notify(index: number, queue: DeviceQueue): void {
    if (index !== REQUEST_QUEUE) return;
    const chain = this.device.newChain(REQUEST_QUEUE);
    do {
      queue.disableNotifications();
      while (queue.pop(chain)) this.serve(chain);
    } while (queue.enableNotifications());
  }

  private serve(chain: DescriptorChain): void {
    if (chain.readable > 0) {
      throw new VirtioFault(`request ${chain.head} has ${chain.readableBytes} bytes in device-readable buffers; an entropy request holds only device-writable ones (virtio 1.2 §5.4.6.1)`);
    }
    if (chain.writableBytes === 0) throw new VirtioFault(`request ${chain.head} has no room for a byte`);
    const n = Math.min(chain.writableBytes, this.limit);
    for (const view of chain.views(this.device.memory.bytes, true, 0, n)) this.source(view);
    this.stats.requests++;
    this.stats.bytes += n;
    this.device.complete(REQUEST_QUEUE, chain.head, n, this.device.epoch);
  }

  reset(): void {
    // Every request is answered inside notify: nothing is ever left in flight.
  }
}
