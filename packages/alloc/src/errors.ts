/**
 * The errors every allocator here reports, worded the same way: exhaustion is ENOMEM, a bad
 * argument or a bad free is EINVAL, an address the allocator never managed is EFAULT. Every
 * message about an address carries it in hex, so a person can find it in a trace.
 */
import { KernelError } from '@uk/hal';
import { formatBytes, hex, isPowerOfTwo } from './bits.js';

export function checkSize(bytes: number, op: string): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new KernelError('EINVAL', `${op}: size ${String(bytes)} is not a positive whole number of bytes`);
  }
}

export function checkAlign(align: number, op: string): void {
  if (!isPowerOfTwo(align)) {
    throw new KernelError('EINVAL', `${op}: alignment ${String(align)} is not a power of two`);
  }
}

/** Rejects anything that cannot be a physical address before it reaches index arithmetic. */
export function checkAddress(addr: number, op: string): void {
  if (!Number.isSafeInteger(addr) || addr < 0) {
    throw new KernelError('EFAULT', `${op}: ${String(addr)} is not a physical address`);
  }
}

export function outOfMemory(op: string, bytes: number, align: number, freeBytes: number, largest: number): KernelError {
  return new KernelError(
    'ENOMEM',
    `${op}: cannot allocate ${formatBytes(bytes)} aligned to ${formatBytes(align)}: ${formatBytes(freeBytes)} free, ` +
      `largest free block ${formatBytes(largest)}. Give the machine more memory (--mem) or free what is no longer used.`,
  );
}

export function foreignAddress(op: string, addr: number, owner: string): KernelError {
  return new KernelError('EFAULT', `${op}(${hex(addr)}): the address is not in memory that ${owner} manages`);
}

export function misalignedAddress(op: string, addr: number, granule: number): KernelError {
  return new KernelError('EINVAL', `${op}(${hex(addr)}): the address is not a multiple of ${granule}, so no allocation starts there`);
}

export function doubleFree(op: string, addr: number): KernelError {
  return new KernelError('EINVAL', `${op}(${hex(addr)}): double free — the memory at this address is already free`);
}

export function notAllocationStart(op: string, addr: number, detail: string): KernelError {
  return new KernelError('EINVAL', `${op}(${hex(addr)}): no allocation starts at this address (${detail})`);
}

export function wrongSize(op: string, addr: number, allocated: number, freed: number): KernelError {
  return new KernelError(
    'EINVAL',
    `${op}(${hex(addr)}): wrong size — the allocation is ${formatBytes(allocated)} (${allocated} bytes) but ${freed} bytes were freed`,
  );
}
