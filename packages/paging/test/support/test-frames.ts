import { type FrameAllocator, KernelError } from '@uk/hal';

/**
 * A frame allocator for tests: 4 KiB frames from a window of a fake RAM, handed out from a
 * free list. Fresh frames are filled with 0xa5 so that a table that is not zeroed shows up;
 * double frees and frees of frames never allocated throw; `failAfter` injects ENOMEM.
 */
export class TestFrames implements FrameAllocator {
  private readonly free: number[] = [];
  readonly live = new Set<number>();
  /** Allocations left before ENOMEM is thrown; undefined = never. */
  failAfter: number | undefined;
  readonly totalBytes: number;

  constructor(
    private readonly ram: { bytes: Uint8Array; base: number },
    start: number,
    size: number,
  ) {
    for (let pa = start + size - 4096; pa >= start; pa -= 4096) this.free.push(pa);
    this.totalBytes = size;
  }

  get freeBytes(): number {
    return this.free.length * 4096;
  }

  allocFrames(bytes: number, align = 4096): number {
    if (bytes !== 4096 || align !== 4096) throw new KernelError('EINVAL', `test allocator serves single 4 KiB frames, not ${bytes}/${align}`);
    if (this.failAfter !== undefined) {
      if (this.failAfter === 0) throw new KernelError('ENOMEM', 'injected: no frame left');
      this.failAfter--;
    }
    const pa = this.free.pop();
    if (pa === undefined) throw new KernelError('ENOMEM', 'test RAM exhausted');
    this.live.add(pa);
    this.ram.bytes.fill(0xa5, pa - this.ram.base, pa - this.ram.base + 4096);
    return pa;
  }

  freeFrames(pa: number, bytes: number): void {
    if (bytes !== 4096) throw new Error(`freeFrames(${pa.toString(16)}, ${bytes}): expected one frame`);
    if (!this.live.delete(pa)) throw new Error(`freeFrames(0x${pa.toString(16)}): not allocated (double free?)`);
    this.free.push(pa);
  }
}

export const RAM_BASE = 0x8000_0000;

/** A fake RAM of `size` bytes at 0x8000_0000 whose upper half serves page-table frames. */
export function fakeRam(size = 16 * 2 ** 20): { ram: { base: number; size: number; bytes: Uint8Array }; frames: TestFrames } {
  const bytes = new Uint8Array(size);
  const ram = { base: RAM_BASE, size, bytes };
  return { ram, frames: new TestFrames(ram, RAM_BASE + size / 2, size / 2) };
}
