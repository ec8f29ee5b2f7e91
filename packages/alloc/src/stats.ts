/** Figures every allocator here reports the same way, so a benchmark or a shell can compare them. */
export interface AllocatorStats {
  /** Bytes the allocator manages. */
  readonly totalBytes: number;
  /** Bytes not handed out. */
  readonly freeBytes: number;
  readonly usedBytes: number;
  /** The largest contiguous free block: the largest allocation that could still succeed. */
  readonly largestFreeBlock: number;
  /**
   * External fragmentation, 1 − largestFreeBlock / freeBytes: 0 when the free memory is one
   * block (or there is none), close to 1 when it is scattered in crumbs.
   */
  readonly fragmentation: number;
  /** Allocations handed out and not yet freed. */
  readonly liveAllocations: number;
}

/** Anything that can report {@link AllocatorStats}. */
export interface HasStats {
  stats(): AllocatorStats;
}

export function fragmentationOf(largestFreeBlock: number, freeBytes: number): number {
  return freeBytes === 0 ? 0 : 1 - largestFreeBlock / freeBytes;
}

/**
 * The statistics of a frames or DMA service if its implementation reports them (every
 * allocator of this package does), e.g. `allocatorStats(ctx.get(Services.frames))`.
 */
export function allocatorStats(service: unknown): AllocatorStats | undefined {
  const s = service as Partial<HasStats> | null | undefined;
  return typeof s?.stats === 'function' ? s.stats() : undefined;
}
