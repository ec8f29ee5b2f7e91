import type { DescriptorChain } from '../queue/chain.js';
import type { DeviceQueue } from '../queue/device-queue.js';
import type { GuestMemory } from '../queue/guest-memory.js';

/**
 * What a device type (block, net, ...) plugs into the generic virtio-mmio model: its ID,
 * features, queues and configuration space, and what to do when the driver notifies a queue.
 */
export interface VirtioBackend {
  /** "virtio-blk", for the bus and for messages. */
  readonly name: string;
  readonly deviceId: number;
  /** Device-specific feature bits; the model adds VERSION_1, RING_EVENT_IDX and RING_INDIRECT_DESC. */
  readonly features: bigint;
  /** The largest size of each queue (powers of two). */
  readonly queueSizes: readonly number[];
  /** The configuration space as the driver reads it (little-endian). */
  readonly config: Uint8Array;
  /** Binds the backend to the model (once, before any other call). */
  bind(device: VirtioDeviceHandle): void;
  /** The driver set DRIVER_OK with these features. */
  activate?(features: bigint): void;
  /** The driver notified queue `index` (or DRIVER_OK found it non-empty). May throw VirtioFault. */
  notify(index: number, queue: DeviceQueue): void;
  /** A driver write to the configuration space. */
  configWrite?(offset: number, size: number, value: number): void;
  /**
   * The device is being reset: forget the queues. Resolves once work already handed to the
   * host has finished; until then the status register does not read 0.
   */
  reset(): void | Promise<void>;
}

/** What the model offers its backend. */
export interface VirtioDeviceHandle {
  readonly memory: GuestMemory;
  /** Bumped at every reset and DEVICE_NEEDS_RESET: work started under an older epoch is dropped. */
  readonly epoch: number;
  /** Negotiated features. */
  readonly features: bigint;
  /** A chain the backend has popped and may reuse for one queue. */
  newChain(queueIndex: number): DescriptorChain;
  /**
   * Returns a chain to the driver and raises the interrupt if the driver wants one. Does
   * nothing (returns false) when `epoch` is no longer current.
   */
  complete(queueIndex: number, head: number, len: number, epoch: number): boolean;
  /** The guest broke the protocol: DEVICE_NEEDS_RESET and a configuration-change interrupt. */
  fault(reason: string): void;
  /** The configuration space changed: a new generation and a configuration-change interrupt. */
  configChanged(): void;
  /** A line for the host's log, prefixed with the device. */
  log(message: string): void;
}
