/**
 * One end of a layer-2 link as a NIC model sees it: Ethernet frames (no FCS) out and in. A
 * UDP socket, a port of the in-process switch, a capture around either — anything that
 * carries frames — is a FramePort.
 *
 * Frames passed either way are lent for the duration of the call only: whoever keeps one
 * (a socket's send queue, a delay line) copies it. That lets a frame go from guest RAM to the
 * wire, or from one guest to another, with no copy the receiver did not ask for.
 */
export interface FramePort {
  /** "udp 127.0.0.1:5555", "switch lan", for messages. */
  readonly label: string;
  /** Puts a frame on the link. */
  send(frame: Uint8Array): void;
  /** Where frames from the link go (one receiver; a later call replaces it). */
  setReceiver(receive: (frame: Uint8Array) => void): void;
  /** Leaves the link and releases host resources. */
  close(): void | Promise<void>;
}
