import type { VirtioMmioDevice } from '@uk/virtio';
import { NetConfigField as F, NetFeature, NetStatus } from '@uk/virtio-spec';

/** The parts of the virtio-net configuration the driver uses; fields of features not negotiated read as absent. */
export interface NetDeviceConfig {
  /** The device's MAC (VIRTIO_NET_F_MAC), or null. */
  mac: Uint8Array | null;
  /** Link up; true when the device does not report status (VIRTIO_NET_F_STATUS not negotiated). */
  linkUp: boolean;
  /** The device's MTU (VIRTIO_NET_F_MTU), or 0. */
  mtu: number;
}

/** Reads the configuration space, each field at its own width, retried until the generation holds still. */
export function readNetConfig(dev: VirtioMmioDevice): NetDeviceConfig {
  const t = dev.transport;
  const hasMac = dev.has(NetFeature.Mac);
  const hasStatus = dev.has(NetFeature.Status);
  const hasMtu = dev.has(NetFeature.Mtu);
  return dev.stableConfig(() => {
    let mac: Uint8Array | null = null;
    if (hasMac) {
      mac = new Uint8Array(6);
      for (let i = 0; i < 6; i++) mac[i] = t.config8(F.mac + i);
    }
    return {
      mac,
      linkUp: hasStatus ? (t.config16(F.status) & NetStatus.LinkUp) !== 0 : true,
      mtu: hasMtu ? t.config16(F.mtu) : 0,
    };
  });
}
