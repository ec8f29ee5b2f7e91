/** A device's register file as the bus sees it: offsets are relative to the device's base. */
export interface MmioDevice {
  readonly name: string;
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** Raised by the bus for an access no device answers; the vCPU turns it into an access fault. */
export class BusError extends Error {
  constructor(
    readonly addr: number,
    readonly access: 'read' | 'write',
    readonly reason: string,
  ) {
    super(`${access} at 0x${addr.toString(16)}: ${reason}`);
    this.name = 'BusError';
  }
}
