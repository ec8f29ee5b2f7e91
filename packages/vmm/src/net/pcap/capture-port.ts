import type { FramePort } from '../frame-port.js';
import type { PcapWriter } from './pcap-writer.js';

/**
 * A FramePort that records every frame crossing it, both ways, into a pcap file — the NIC's
 * view of the wire, like QEMU's `filter-dump` on a netdev.
 */
export class CapturePort implements FramePort {
  readonly label: string;

  constructor(
    readonly inner: FramePort,
    readonly writer: PcapWriter,
  ) {
    this.label = `${inner.label}, captured to ${writer.path}`;
  }

  send(frame: Uint8Array): void {
    this.writer.write(frame);
    this.inner.send(frame);
  }

  setReceiver(receive: (frame: Uint8Array) => void): void {
    this.inner.setReceiver((frame) => {
      this.writer.write(frame);
      receive(frame);
    });
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.writer.close();
    }
  }
}
