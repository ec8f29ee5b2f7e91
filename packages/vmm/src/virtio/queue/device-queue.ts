import {
  AVAIL_F_NO_INTERRUPT,
  AvailField,
  availEntryOffset,
  availEventOffset,
  availRingBytes,
  DESC_SIZE,
  DescFlag,
  descTableBytes,
  isValidQueueSize,
  needEvent,
  RingAlign,
  USED_F_NO_NOTIFY,
  UsedField,
  usedEntryOffset,
  usedEventOffset,
  usedRingBytes,
} from '@uk/virtio-spec';
import type { DescriptorChain } from './chain.js';
import { VirtioFault } from './fault.js';
import type { GuestMemory } from './guest-memory.js';

const TWO32 = 0x1_0000_0000;

/**
 * The device's side of a split virtqueue (virtio 1.2 §2.7). The guest owns the memory and
 * may write anything into it at any time, so every index, address, length and link read from
 * it is checked before use: a chain that loops, runs longer than the queue, nests indirect
 * tables, puts a readable buffer after a writable one or points outside RAM raises a
 * VirtioFault, as does an available index that runs ahead by more than the queue size or a
 * head that is already in flight. Nothing here reads or writes outside guest RAM.
 */
export class DeviceQueue {
  /** Register values as the driver wrote them. */
  size: number;
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  ready = false;

  /** RING_EVENT_IDX and RING_INDIRECT_DESC, as negotiated. */
  eventIdx = false;
  indirect = false;

  private mem: GuestMemory | undefined;
  private descOff = 0;
  private availOff = 0;
  private usedOff = 0;
  private availIdxI = 0;
  private availFlagsI = 0;
  private usedIdxI = 0;
  private usedFlagsI = 0;
  private usedEventI = 0;
  private availEventI = 0;
  private mask = 0;

  /** The next available entry to take, and the next used entry to fill (free-running 16-bit). */
  lastAvail = 0;
  usedIdx = 0;
  private signalledUsed = 0;
  private readonly inFlight: Uint8Array;
  private inFlightCount = 0;

  constructor(readonly maxSize: number) {
    if (!isValidQueueSize(maxSize)) throw new RangeError(`queue size ${maxSize} must be a power of two up to 32768`);
    this.size = maxSize;
    this.inFlight = new Uint8Array(maxSize);
  }

  /** Chains popped and not yet returned. */
  get pendingChains(): number {
    return this.inFlightCount;
  }

  /** Back to the state after a device reset. */
  reset(): void {
    this.size = this.maxSize;
    this.descAddr = 0;
    this.driverAddr = 0;
    this.deviceAddr = 0;
    this.ready = false;
    this.mem = undefined;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.inFlight.fill(0);
    this.inFlightCount = 0;
  }

  /** QueueReady = 1: checks the size and the three areas against RAM and starts the queue. */
  activate(mem: GuestMemory): void {
    const n = this.size;
    if (!isValidQueueSize(n) || n > this.maxSize) throw new VirtioFault(`queue size ${n} is not a power of two from 1 to ${this.maxSize}`);
    const areas: Array<[string, number, number, number]> = [
      ['descriptor table', this.descAddr, descTableBytes(n), RingAlign.desc],
      ['driver area', this.driverAddr, availRingBytes(n), RingAlign.avail],
      ['device area', this.deviceAddr, usedRingBytes(n), RingAlign.used],
    ];
    const offs: number[] = [];
    for (const [what, addr, bytes, align] of areas) {
      if (addr % align !== 0) throw new VirtioFault(`${what} at 0x${addr.toString(16)} is not ${align}-byte aligned`);
      const off = mem.offset(addr, bytes);
      if (off < 0) throw new VirtioFault(`${what} at 0x${addr.toString(16)} (${bytes} bytes) is not inside RAM`);
      offs.push(off);
    }
    this.mem = mem;
    [this.descOff, this.availOff, this.usedOff] = offs;
    this.mask = n - 1;
    this.availIdxI = (this.availOff + AvailField.idx) >> 1;
    this.availFlagsI = (this.availOff + AvailField.flags) >> 1;
    this.usedIdxI = (this.usedOff + UsedField.idx) >> 1;
    this.usedFlagsI = (this.usedOff + UsedField.flags) >> 1;
    this.usedEventI = (this.availOff + usedEventOffset(n)) >> 1;
    this.availEventI = (this.usedOff + availEventOffset(n)) >> 1;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.inFlight.fill(0);
    this.inFlightCount = 0;
    this.ready = true;
  }

  /** Available entries not taken yet. A count beyond the queue size is a fault. */
  available(): number {
    const mem = this.mem;
    if (mem === undefined || !this.ready) return 0;
    const n = (Atomics.load(mem.u16, this.availIdxI) - this.lastAvail) & 0xffff;
    if (n > this.size) throw new VirtioFault(`the available index is ${n} entries ahead in a queue of ${this.size}`);
    return n;
  }

  /**
   * Takes the next available chain into `chain` (validated). Returns false when there is none.
   */
  pop(chain: DescriptorChain): boolean {
    const mem = this.mem;
    if (mem === undefined || this.available() === 0) return false;
    const v = mem.view;
    const head = v.getUint16(this.availOff + availEntryOffset(this.lastAvail & this.mask), true);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (head >= this.size) throw new VirtioFault(`available entry names descriptor ${head} in a queue of ${this.size}`);
    if (this.inFlight[head] !== 0) throw new VirtioFault(`descriptor ${head} was made available again before the device returned it`);
    this.walk(mem, head, chain);
    this.inFlight[head] = 1;
    this.inFlightCount++;
    return true;
  }

  private walk(mem: GuestMemory, head: number, chain: DescriptorChain): void {
    const v = mem.view;
    chain.clear(head);
    let table = this.descOff;
    let tableSize = this.size;
    let i = head;
    let steps = 0;
    let inIndirect = false;
    for (;;) {
      if (++steps > tableSize) throw new VirtioFault(`the chain at descriptor ${head} loops or is longer than its table (${tableSize} entries)`);
      const d = table + DESC_SIZE * i;
      const lo = v.getUint32(d, true);
      const hi = v.getUint32(d + 4, true);
      const len = v.getUint32(d + 8, true);
      const flags = v.getUint16(d + 12, true);
      const next = v.getUint16(d + 14, true);
      const addr = hi < 0x20_0000 ? hi * TWO32 + lo : Number.POSITIVE_INFINITY;

      if (flags & DescFlag.Indirect) {
        if (!this.indirect) throw new VirtioFault('an indirect descriptor, but RING_INDIRECT_DESC was not negotiated');
        if (inIndirect) throw new VirtioFault('an indirect table inside an indirect table');
        if (steps !== 1) throw new VirtioFault('an indirect descriptor after the head of a chain');
        if (flags & DescFlag.Next) throw new VirtioFault('a descriptor with both INDIRECT and NEXT');
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtioFault(`an indirect table of ${len} bytes (not a non-zero multiple of ${DESC_SIZE})`);
        if (len / DESC_SIZE > this.size) throw new VirtioFault(`an indirect table of ${len / DESC_SIZE} entries, more than the queue size ${this.size}`);
        const off = mem.offset(addr, len);
        if (off < 0) throw new VirtioFault(`an indirect table at 0x${addr.toString(16)} (${len} bytes) is not inside RAM`);
        inIndirect = true;
        table = off;
        tableSize = len / DESC_SIZE;
        i = 0;
        steps = 0;
        continue;
      }

      const writable = (flags & DescFlag.Write) !== 0;
      if (len > 0) {
        const off = mem.offset(addr, len);
        if (off < 0) throw new VirtioFault(`a buffer at 0x${addr.toString(16)} (${len} bytes) is not inside RAM`);
        if (!writable && chain.count > chain.readable) throw new VirtioFault('a device-readable buffer after a device-writable one');
        if (chain.count >= chain.capacity) throw new VirtioFault(`a chain of more than ${chain.capacity} buffers`);
        const k = chain.count++;
        chain.offset[k] = off;
        chain.length[k] = len;
        if (writable) chain.writableBytes += len;
        else {
          chain.readable++;
          chain.readableBytes += len;
        }
      }
      if ((flags & DescFlag.Next) === 0) return;
      if (next >= tableSize) throw new VirtioFault(`descriptor ${i} links to ${next}, outside its table of ${tableSize}`);
      i = next;
    }
  }

  /** Returns chain `head` to the driver with `len` bytes written into its writable buffers. */
  push(head: number, len: number): void {
    const mem = this.mem;
    if (mem === undefined || head >= this.size || this.inFlight[head] === 0) return;
    this.inFlight[head] = 0;
    this.inFlightCount--;
    const at = this.usedOff + usedEntryOffset(this.usedIdx & this.mask);
    mem.view.setUint32(at, head, true);
    mem.view.setUint32(at + 4, len >>> 0, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // Publishes the entry to the driver (a reader on another thread sees it with the index).
    Atomics.store(mem.u16, this.usedIdxI, this.usedIdx);
  }

  /**
   * Whether the driver wants an interrupt for what was pushed since the last time this said
   * yes or no (§2.7.7.2): by used_event with RING_EVENT_IDX, else unless NO_INTERRUPT is set.
   */
  needsInterrupt(): boolean {
    const mem = this.mem;
    if (mem === undefined) return false;
    const old = this.signalledUsed;
    const now = this.usedIdx;
    this.signalledUsed = now;
    if (old === now) return false;
    if (this.eventIdx) return needEvent(Atomics.load(mem.u16, this.usedEventI), now, old);
    return (Atomics.load(mem.u16, this.availFlagsI) & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver to notify again once it adds past what was taken (avail_event, or clears
   * NO_NOTIFY). Returns true when entries arrived meanwhile: pop again, or they might wait
   * for a notification that will not come.
   */
  enableNotifications(): boolean {
    const mem = this.mem;
    if (mem === undefined) return false;
    if (this.eventIdx) Atomics.store(mem.u16, this.availEventI, this.lastAvail);
    else Atomics.store(mem.u16, this.usedFlagsI, 0);
    return this.available() > 0;
  }

  /** Asks the driver not to notify while the device is working through the queue anyway. */
  disableNotifications(): void {
    const mem = this.mem;
    if (mem !== undefined && !this.eventIdx) Atomics.store(mem.u16, this.usedFlagsI, USED_F_NO_NOTIFY);
  }
}
