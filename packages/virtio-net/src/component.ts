import type { Component } from '@uk/hal';
import { NET_DEVICE } from '@uk/netdev';
import { virtioDriver } from '@uk/virtio';
import { DeviceId } from '@uk/virtio-spec';
import { VirtioNetDevice, type VirtioNetOptions } from './device/net-device.js';

/**
 * The virtio-net driver as a kernel component: every virtio network device in the device
 * tree becomes a NetDevice registered as eth0, eth1, ... in slot order
 * (`ctx.devices(NET_DEVICE)`), numbered after any interface registered before it.
 */
export function virtioNet(options: Omit<VirtioNetOptions, 'name' | 'log'> = {}): Component {
  return virtioDriver({
    name: 'virtio-net',
    deviceId: DeviceId.Net,
    package: '@uk/virtio-net',
    async probe(device, ctx) {
      const name = `eth${ctx.devices(NET_DEVICE).size}`;
      const net = await VirtioNetDevice.start(device, { ...options, name, log: (line) => ctx.console.write(`virtio-net: ${line}\n`) });
      ctx.addDevice(NET_DEVICE, name, net);
      ctx.console.write(`virtio-net: ${name}: ${net.describe()}\n`);
      // Frames queued in the last turn before power-off still go out.
      ctx.onShutdown(() => net.flush());
    },
  });
}
