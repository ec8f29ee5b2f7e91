import { type Component, KernelError } from '@uk/hal';
import { virtioDriver } from '@uk/virtio';
import { DeviceId } from '@uk/virtio-spec';
import { type Entropy, EntropyKey } from '../entropy/service.js';
import { kernelWait } from './kernel-wait.js';
import { VirtioRngDevice, type VirtioRngOptions } from './rng-device.js';

/** What `ctx.get(EntropyKey)` gives when the machine has no entropy device: an answer, not a crash at boot. */
const noDevice: Entropy = {
  name: 'none',
  fill: () =>
    Promise.reject(
      new KernelError('ENODEV', 'no virtio entropy device (virtio device ID 4) in the device tree; attach one, e.g. uk run <app> --device @acme/virtio-rng/device'),
    ),
};

/**
 * The virtio-rng driver as a kernel component: every virtio entropy device in the device tree
 * is started and registered as rng0, rng1, ... (`ctx.devices('entropy')`), and the first one
 * is the Entropy service (`ctx.get(EntropyKey)`). Without a device the service is still
 * there, and its fills reject with ENODEV.
 */
export function virtioRng(options: VirtioRngOptions = {}): Component {
  const found: VirtioRngDevice[] = [];
  const driver = virtioDriver({
    name: 'virtio-rng',
    deviceId: DeviceId.Entropy,
    package: '@acme/virtio-rng',
    provides: [EntropyKey],
    async probe(device, ctx) {
      const rng = await VirtioRngDevice.start(device, options, kernelWait(ctx));
      rng.name = `rng${found.length}`;
      found.push(rng);
      ctx.addDevice('entropy', rng.name, rng);
      ctx.console.write(`virtio-rng: ${rng.name}: ${rng.label}, ${rng.depth} requests of up to ${rng.requestBytes} bytes in flight\n`);
    },
  });
  return {
    ...driver,
    async init(ctx) {
      found.length = 0;
      await driver.init(ctx);
      ctx.provide(EntropyKey, found[0] ?? noDevice);
    },
  };
}
