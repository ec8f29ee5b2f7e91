import type { NetBuf, NetDevice } from '@uk/netdev';
import { ArpCache, type ArpLimits } from '../arp/cache.js';
import { type Ipv4Address, prefixMask } from '../ip/address.js';

/**
 * One network interface of a stack (lwIP's netif): a device, its IPv4 configuration, its ARP
 * cache and its transmit queue.
 */
export class NetInterface {
  address: Ipv4Address = 0;
  prefix = 0;
  gateway: Ipv4Address = 0;
  readonly arp: ArpCache;
  /** Frames built during the current batch, handed to the device together. */
  readonly pending: NetBuf[] = [];
  /** Frames the device had no room for; retried on onTxReady. Bounded. */
  backlog: NetBuf[] = [];
  /**
   * Buffers (and their stores: a transport may hand output a view of one) that came from this
   * device's allocTx, so output knows it may hand them over as they are.
   */
  readonly #own = new WeakSet<NetBuf>();
  readonly #ownStores = new WeakSet<Uint8Array>();

  constructor(
    readonly index: number,
    readonly device: NetDevice,
    arpLimits: ArpLimits,
  ) {
    this.arp = new ArpCache(arpLimits);
  }

  get name(): string {
    return this.device.name;
  }

  get mac(): Uint8Array {
    return this.device.mac;
  }

  get mtu(): number {
    return this.device.mtu;
  }

  get configured(): boolean {
    return this.address !== 0;
  }

  get netmask(): number {
    return prefixMask(this.prefix);
  }

  /** The directed broadcast address of the interface's subnet (0 when unconfigured). */
  get broadcast(): Ipv4Address {
    if (!this.configured || this.prefix >= 31) return 0;
    return (this.address | ~this.netmask) >>> 0;
  }

  /** Is `a` on this interface's subnet? */
  onLink(a: Ipv4Address): boolean {
    return this.configured && ((a ^ this.address) & this.netmask) >>> 0 === 0;
  }

  /** A device buffer with `length` bytes of packet after `headroom` bytes of headers. */
  allocTx(headroom: number, length: number): NetBuf | null {
    const b = this.device.allocTx(headroom + length);
    if (b === null) return null;
    b.offset += headroom;
    b.length = length;
    this.#own.add(b);
    this.#ownStores.add(b.store);
    return b;
  }

  owns(b: NetBuf): boolean {
    return b.next === null && (this.#own.has(b) || this.#ownStores.has(b.store));
  }
}
