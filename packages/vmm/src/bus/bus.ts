import { BusError, type MmioDevice } from './device.js';

export interface BusRange {
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

/**
 * The MMIO bus: routes an access to the device whose window holds it. Few devices and a
 * sorted table make a linear scan with a last-hit cache the fastest lookup.
 */
export class Bus {
  private ranges: BusRange[] = [];
  private last: BusRange | undefined;

  attach(base: number, size: number, device: MmioDevice): void {
    for (const r of this.ranges) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new Error(`bus: ${device.name} at 0x${base.toString(16)} overlaps ${r.device.name}`);
      }
    }
    this.ranges.push({ base, size, device });
    this.ranges.sort((a, b) => a.base - b.base);
  }

  /** The windows, for the device tree and for the isolated vCPU's fault checks. */
  windows(): ReadonlyArray<{ base: number; size: number; name: string }> {
    return this.ranges.map((r) => ({ base: r.base, size: r.size, name: r.device.name }));
  }

  find(addr: number): BusRange | undefined {
    const last = this.last;
    if (last !== undefined && addr >= last.base && addr < last.base + last.size) return last;
    for (const r of this.ranges) {
      if (addr >= r.base && addr < r.base + r.size) {
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  read(addr: number, size: 1 | 2 | 4): number {
    const r = this.route(addr, size, 'read');
    return r.device.read(addr - r.base, size);
  }

  write(addr: number, size: 1 | 2 | 4, value: number): void {
    const r = this.route(addr, size, 'write');
    r.device.write(addr - r.base, size, value);
  }

  private route(addr: number, size: number, access: 'read' | 'write'): BusRange {
    if (addr % size !== 0) throw new BusError(addr, access, `misaligned ${size}-byte access`);
    const r = this.find(addr);
    if (r === undefined) throw new BusError(addr, access, 'no device at this address');
    if (addr + size > r.base + r.size) throw new BusError(addr, access, `access runs past the end of ${r.device.name}`);
    return r;
  }
}
