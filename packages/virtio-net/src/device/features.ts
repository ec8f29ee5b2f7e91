import { featureBits, NetFeature } from '@uk/virtio-spec';

/** Device-specific features the driver understands (the transport's VERSION_1, EVENT_IDX and INDIRECT_DESC come on top). */
export const NET_DRIVER_FEATURES = featureBits(
  NetFeature.Mac,
  NetFeature.Status,
  NetFeature.Mtu,
  NetFeature.Csum,
  NetFeature.GuestCsum,
  NetFeature.MrgRxbuf,
);

/** Offloads a kernel may refuse even when the device offers them (all on by default). */
export interface NetFeatureChoice {
  /** VIRTIO_NET_F_CSUM: the device finishes transmit checksums. */
  readonly csum?: boolean;
  /** VIRTIO_NET_F_GUEST_CSUM: the device marks received checksums it verified. */
  readonly guestCsum?: boolean;
  /** VIRTIO_NET_F_MRG_RXBUF: a frame may span several receive buffers. */
  readonly mrgRxbuf?: boolean;
  /** VIRTIO_NET_F_MTU: take the device's MTU. */
  readonly mtu?: boolean;
}

export function wantedFeatures(choice: NetFeatureChoice = {}): bigint {
  let f = NET_DRIVER_FEATURES;
  const drop = (bit: number) => {
    f &= ~featureBits(bit);
  };
  if (choice.csum === false) drop(NetFeature.Csum);
  if (choice.guestCsum === false) drop(NetFeature.GuestCsum);
  if (choice.mrgRxbuf === false) drop(NetFeature.MrgRxbuf);
  if (choice.mtu === false) drop(NetFeature.Mtu);
  return f;
}
