import type { NetStack } from '@uk/net';
import { hostBuf, type NetBuf } from './frame-buf.js';

/** @uk/net's NetDevice, named through the stack that takes it. */
export type NetDevice = Parameters<NetStack['addInterface']>[0];

const zeroStats = () => ({ rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0, notifications: 0, interrupts: 0 });

/** Frames the guest's NIC may hold before the link waits (its backlog takes 256). */
const HIGH_WATER = 160;
/** Frames the link holds for the guest at most; beyond, it drops (TCP sends again). */
const MAX_HELD = 16_384;
/** Without a view of the NIC's backlog: frames per turn of the event loop. */
const BLIND_BURST = 128;

/**
 * The gateway's side of the user link, as a NetDevice for the VMM's own TCP/IP stack: what the
 * stack transmits goes to the guest's NIC; what the guest sends comes in through `deliver`.
 * The link is memory, so the stack never waits to transmit; instead the link paces what it
 * hands the NIC by the NIC's own backlog (when it can see it), so that a burst — a thousand
 * connections answered at once — waits here rather than being dropped there.
 */
export class LinkDevice implements NetDevice {
  readonly name = 'user0';
  readonly linkUp = true;
  /**
   * Checksums are computed for the guest (its NIC model checks them and marks them valid),
   * and those it sends are taken as they are: on a link in memory only the guest could have
   * written a wrong one, and that harms only its own data.
   */
  readonly offloads = { txChecksum: false, rxChecksumVerified: true };
  readonly txHeadroom = 0;
  readonly stats = zeroStats();
  /** Most frames held for the guest at once. */
  heldPeak = 0;
  #receiver: ((frame: NetBuf) => void) | undefined;
  #toGuest: ((frame: Uint8Array) => void) | undefined;
  readonly #held: NetBuf[] = [];
  #heldHead = 0;
  #scheduled = false;
  #idleTurns = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly mac: Uint8Array,
    readonly mtu = 1500,
    /** Frames waiting in the guest NIC's backlog now, when the NIC model tells. */
    private readonly nicBacklog?: () => number,
  ) {}

  allocTx(length: number, headroom = 0): NetBuf {
    return hostBuf(length, headroom);
  }

  transmit(frames: readonly NetBuf[]): number {
    for (const f of frames) {
      if (this.#toGuest === undefined || f.next !== null || this.#held.length - this.#heldHead >= MAX_HELD) {
        // No guest, a chain (a bug upstream: the stack hands whole frames), or too much held.
        this.stats.txDropped++;
        f.release();
        continue;
      }
      this.#held.push(f);
    }
    this.#flush();
    return frames.length;
  }

  /** Frames held for the guest now. */
  get held(): number {
    return this.#held.length - this.#heldHead;
  }

  #flush(): void {
    const out = this.#toGuest;
    const held = this.#held;
    let budget = this.nicBacklog === undefined ? BLIND_BURST : HIGH_WATER - this.nicBacklog();
    let sent = 0;
    while (this.#heldHead < held.length && budget > 0 && out !== undefined) {
      const f = held[this.#heldHead++];
      this.stats.txPackets++;
      this.stats.txBytes += f.length;
      out(f.store.subarray(f.offset, f.offset + f.length));
      f.release();
      budget--;
      sent++;
      if (this.nicBacklog !== undefined && budget <= 0) budget = HIGH_WATER - this.nicBacklog();
    }
    if (this.#heldHead === held.length) {
      held.length = 0;
      this.#heldHead = 0;
      this.#idleTurns = 0;
      return;
    }
    if (this.held > this.heldPeak) this.heldPeak = this.held;
    if (this.#heldHead > 4096) {
      held.splice(0, this.#heldHead);
      this.#heldHead = 0;
    }
    // The rest waits for the guest to take what it has: try again on the next turn, and back
    // off to a timer while the guest makes no room (it may be busy for a while).
    this.#idleTurns = sent > 0 ? 0 : this.#idleTurns + 1;
    if (this.#scheduled) return;
    this.#scheduled = true;
    const again = () => {
      this.#scheduled = false;
      this.#timer = undefined;
      this.#flush();
    };
    if (this.#idleTurns < 8) setImmediate(again);
    else this.#timer = setTimeout(again, 1);
  }

  onTxReady(): void {
    // Never full.
  }

  setReceiver(handler: (frame: NetBuf) => void): void {
    this.#receiver = handler;
  }

  onLinkChange(): void {
    // Always up.
  }

  /** Where frames for the guest go (its NIC's receive; the frame is lent for the call). */
  setGuestReceiver(out: ((frame: Uint8Array) => void) | undefined): void {
    this.#toGuest = out;
    if (out === undefined) {
      for (let i = this.#heldHead; i < this.#held.length; i++) this.#held[i].release();
      this.#held.length = 0;
      this.#heldHead = 0;
      clearTimeout(this.#timer);
    }
  }

  /** A frame from the guest, for the stack (the stack owns the buffer from here on). */
  deliver(frame: NetBuf): void {
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    if (this.#receiver === undefined) {
      this.stats.rxDropped++;
      return;
    }
    this.#receiver(frame);
  }

  /** A frame the gateway builds itself (an ARP reply for the DNS address...), in line with the rest. */
  sendRaw(frame: Uint8Array): void {
    const b = hostBuf(frame.length, 0);
    b.store.set(frame);
    this.transmit([b]);
  }
}
