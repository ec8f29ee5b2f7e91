import type { DmaHeap } from '@uk/hal';
import { DESC_SIZE } from '@uk/virtio-spec';

/**
 * Indirect descriptor tables, kept for reuse: a table taken for one request goes back to the
 * pool when the device returns the request, so steady-state I/O allocates nothing. Tables
 * come in power-of-two capacities (at least 4 entries).
 */
export class IndirectPool {
  private readonly free = new Map<number, number[]>();

  constructor(private readonly dma: DmaHeap) {}

  /** Capacity of the table that `take(n)` hands out. */
  static capacity(n: number): number {
    let c = 4;
    while (c < n) c *= 2;
    return c;
  }

  /** A table of at least `n` descriptors; returns its physical address. */
  take(n: number): number {
    const cap = IndirectPool.capacity(n);
    const list = this.free.get(cap);
    if (list !== undefined && list.length > 0) return list.pop() as number;
    return this.dma.alloc(cap * DESC_SIZE, DESC_SIZE);
  }

  give(pa: number, n: number): void {
    const cap = IndirectPool.capacity(n);
    let list = this.free.get(cap);
    if (list === undefined) {
      list = [];
      this.free.set(cap, list);
    }
    list.push(pa);
  }

  /** Returns every pooled table to the heap. */
  release(): void {
    for (const list of this.free.values()) for (const pa of list) this.dma.free(pa);
    this.free.clear();
  }
}
