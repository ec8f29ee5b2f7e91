import type { NetBuf } from '../buffer/net-buf.js';

/** Counters every NetDevice keeps (monotonic; never reset while the device lives). */
export interface NetStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
  txErrors: number;
  /** Notifications sent to the device (doorbells) and interrupts taken; batching lowers both. */
  notifications: number;
  interrupts: number;
}

export function emptyStats(): NetStats {
  return { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0, notifications: 0, interrupts: 0 };
}

/** What the device does so the stack does not have to. */
export interface NetOffloads {
  /**
   * The device fills in TCP/UDP checksums of transmitted packets (virtio-net CSUM) for the
   * buffers that ask for it with `csumStart` / `csumOffset`.
   */
  readonly txChecksum: boolean;
  /**
   * Received TCP and UDP packets arrive with their checksums already verified (virtio-net
   * GUEST_CSUM): frames whose checksum is wrong never reach the receiver. Fragments are the
   * exception; their checksum covers the reassembled datagram.
   */
  readonly rxChecksumVerified: boolean;
}

/**
 * A network interface as the TCP/IP stack sees it — virtio-net, loopback, or a third-party
 * driver; the stack knows nothing else of it.
 *
 * Frames are Ethernet II frames without the FCS. Transmit is batched: the driver takes a
 * batch and notifies the device once. Receive is zero-copy: the driver hands each frame to
 * the receiver in a buffer the receiver then owns and must release.
 */
export interface NetDevice {
  /** eth0, eth1, ... */
  readonly name: string;
  /** Six bytes. */
  readonly mac: Uint8Array;
  /** Largest IP packet (Ethernet payload) the link carries: 1500 unless the device says otherwise. */
  readonly mtu: number;
  readonly linkUp: boolean;
  readonly offloads: NetOffloads;
  /** Bytes every transmit buffer must have free before its packet (the driver's own header). */
  readonly txHeadroom: number;
  readonly stats: NetStats;

  /**
   * A buffer for a frame of up to `length` bytes with `txHeadroom + headroom` bytes free in
   * front, from memory the device can reach; null when none is free right now (back-pressure:
   * try again after `onTxReady`).
   */
  allocTx(length: number, headroom?: number): NetBuf | null;
  /**
   * Queues frames for transmission and notifies the device once for the batch. Takes
   * ownership of the first n buffers and returns n; the caller keeps (and may retry or
   * release) the rest when the device's queue is full.
   */
  transmit(frames: readonly NetBuf[]): number;
  /** Called when transmit space frees up after a transmit returned less than asked. */
  onTxReady(handler: () => void): void;
  /** Where received frames go; the receiver owns each buffer and must release it. */
  setReceiver(handler: (frame: NetBuf) => void): void;
  onLinkChange(handler: (up: boolean) => void): void;
  /**
   * Hands up to `budget` waiting received frames to the receiver now and reclaims finished
   * transmissions; returns how many frames it delivered. Optional: devices poll on their own
   * (from their interrupt, NAPI-style); a stack or application that busy-polls may call it.
   */
  poll?(budget?: number): number;
}

/** The kind under which network devices are registered: `ctx.addDevice(NET_DEVICE, 'eth0', dev)`. */
export const NET_DEVICE = 'net';
