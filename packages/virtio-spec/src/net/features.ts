/** virtio-net feature bits (virtio 1.2 §5.1.3). */
export const NetFeature = {
  /** The device handles packets with partial checksums (the driver may leave them to it). */
  Csum: 0,
  /** The driver handles packets with partial checksums. */
  GuestCsum: 1,
  CtrlGuestOffloads: 2,
  /** mtu in the configuration space is valid. */
  Mtu: 3,
  /** mac in the configuration space is valid. */
  Mac: 5,
  GuestTso4: 7,
  GuestTso6: 8,
  GuestEcn: 9,
  GuestUfo: 10,
  HostTso4: 11,
  HostTso6: 12,
  HostEcn: 13,
  HostUfo: 14,
  /** The driver can merge receive buffers (num_buffers in the header counts them). */
  MrgRxbuf: 15,
  /** status in the configuration space is valid. */
  Status: 16,
  CtrlVq: 17,
  CtrlRx: 18,
  CtrlVlan: 19,
  GuestAnnounce: 21,
  Mq: 22,
  CtrlMacAddr: 23,
  HostUso: 56,
  HashReport: 57,
  GuestHdrlen: 59,
  Rss: 60,
  RscExt: 61,
  Standby: 62,
  SpeedDuplex: 63,
} as const;

/** Bits of the configuration space's status field. */
export const NetStatus = {
  LinkUp: 1,
  Announce: 2,
} as const;

/** Queue indexes: receive queue n is 2n, transmit queue n is 2n+1; the control queue follows. */
export const NetQueue = { Rx: 0, Tx: 1 } as const;
