import { type ServiceKey, serviceKey } from '@uk/hal';

/**
 * Random bytes from a hardware source. What a component or an application uses, without
 * knowing it comes from a virtio device: another package can provide the same key.
 */
export interface Entropy {
  /** The device it reads from (rng0, ...), for messages. */
  readonly name: string;
  /**
   * Fills all of `bytes` with random bytes. The device may answer a request with fewer bytes
   * than asked; the rest is asked for again until every byte is written. Rejects with a
   * KernelError: EIO when the device fails or keeps answering nothing, ENODEV when there is no
   * device.
   */
  fill(bytes: Uint8Array): Promise<void>;
}

/** The entropy service, as `ctx.get(EntropyKey)` finds it. */
export const EntropyKey: ServiceKey<Entropy> = serviceKey<Entropy>('entropy', 'virtioRng() from @acme/virtio-rng');
