/**
 * One contiguous run of page frames under the buddy discipline. All metadata lives in typed
 * arrays indexed by page (`ai` = page index inside the zone), never in guest RAM:
 *
 * - `tag[ai]`: FREE | order when a free block starts at page ai, ALLOCATED when an allocation
 *   starts there, 0 for every other page. Interior pages are never written, which is what
 *   makes initialising a 1 GiB zone a handful of writes instead of 262 144.
 * - `next[ai]` / `prev[ai]`: the doubly linked free list of the block's order; for an
 *   allocation start, `next[ai]` holds the allocation's length in pages instead.
 *
 * Buddies are found by XOR on the page index counted from the 1 GiB boundary below the zone
 * (`skip` pages before it), so every block is aligned physically to its own size.
 */
import { floorLog2, lowestBit, PAGE_SIZE } from '../bits.js';

/** Order 0 is one 4 KiB page; order 18 is 1 GiB. */
export const MAX_ORDER = 18;
export const ORDERS = MAX_ORDER + 1;
export const MAX_BLOCK_PAGES = 1 << MAX_ORDER;

export const TAG_FREE = 0x20;
export const TAG_ALLOCATED = 0x40;
const ORDER_MASK = 0x1f;

/** The largest zone: page indices plus `skip` must stay below 2^31 for the bit operators. */
export const MAX_ZONE_PAGES = 2 ** 31 - MAX_BLOCK_PAGES;

export class BuddyZone {
  /** Page frame number (address / 4 KiB) of the zone's first page. */
  readonly basePfn: number;
  readonly pages: number;
  /** Pages between the 1 GiB boundary below the zone and its first page. */
  readonly skip: number;
  readonly tag: Uint8Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Head of each order's free list, -1 when empty. */
  readonly heads = new Int32Array(ORDERS).fill(-1);
  /** Free blocks per order. */
  readonly counts = new Int32Array(ORDERS);
  /** Bit k set ⇔ the order-k free list is not empty. */
  mask = 0;
  freePages = 0;
  liveAllocations = 0;

  constructor(basePfn: number, pages: number) {
    this.basePfn = basePfn;
    this.pages = pages;
    this.skip = basePfn % MAX_BLOCK_PAGES;
    this.tag = new Uint8Array(pages);
    this.next = new Int32Array(pages);
    this.prev = new Int32Array(pages);
    this.freeRange(0, pages, false);
    this.freePages = pages;
  }

  get baseAddress(): number {
    return this.basePfn * PAGE_SIZE;
  }

  get endAddress(): number {
    return (this.basePfn + this.pages) * PAGE_SIZE;
  }

  /** Highest order with a free block, -1 when the zone is full. */
  get highestFreeOrder(): number {
    return 31 - Math.clz32(this.mask);
  }

  /**
   * Takes `n` pages starting on a block of order `order` (≥ ⌈log2 n⌉) and returns the page
   * index, or -1 when no free block of that order or above exists. The pages past `n` in the
   * block go back to the free lists, so an allocation costs exactly its pages.
   */
  allocate(n: number, order: number): number {
    const candidates = this.mask & (-1 << order);
    if (candidates === 0) return -1;
    let k = lowestBit(candidates);
    const ai = this.heads[k];
    this.unlink(ai, k);
    while (k > order) {
      k--;
      this.push(ai + (1 << k), k);
    }
    const blockPages = 1 << order;
    if (n < blockPages) this.freeRange(ai + n, ai + blockPages, false);
    this.tag[ai] = TAG_ALLOCATED;
    this.next[ai] = n;
    this.freePages -= n;
    this.liveAllocations++;
    return ai;
  }

  /** Returns the allocation of `n` pages starting at page `ai`; the caller has checked it. */
  release(ai: number, n: number): void {
    this.tag[ai] = 0;
    this.liveAllocations--;
    this.freePages += n;
    this.freeRange(ai, ai + n, true);
  }

  /** Length in pages of the allocation starting at `ai`, or -1 if none starts there. */
  allocationPages(ai: number): number {
    return this.tag[ai] === TAG_ALLOCATED ? this.next[ai] : -1;
  }

  /** True when page `ai` lies inside a free block (used to tell a double free from a bad pointer). */
  isFreePage(ai: number): boolean {
    const li = ai + this.skip;
    for (let k = 0; k <= MAX_ORDER; k++) {
      const head = (li & ~((1 << k) - 1)) - this.skip;
      if (head < 0) break;
      const t = this.tag[head];
      if ((t & TAG_FREE) !== 0 && head + (1 << (t & ORDER_MASK)) > ai) return true;
    }
    return false;
  }

  /** The start page of the allocation that covers page `ai`, or -1 (a slow scan, for error reports only). */
  allocationCovering(ai: number): number {
    for (let p = ai; p >= 0 && ai - p < MAX_BLOCK_PAGES; p--) {
      if (this.tag[p] === TAG_ALLOCATED) return p + this.next[p] > ai ? p : -1;
      if ((this.tag[p] & TAG_FREE) !== 0) return -1;
    }
    return -1;
  }

  /**
   * Puts pages [from, to) on the free lists as the largest aligned blocks that fit, merging
   * each with its buddy while the buddy is free when `coalesce` is set.
   */
  private freeRange(from: number, to: number, coalesce: boolean): void {
    const skip = this.skip;
    let p = from;
    while (p < to) {
      const k = Math.min(lowestBit(p + skip), MAX_ORDER, floorLog2(to - p));
      if (coalesce) this.freeBlock(p, k);
      else this.push(p, k);
      p += 1 << k;
    }
  }

  private freeBlock(start: number, order: number): void {
    const skip = this.skip;
    let p = start;
    let k = order;
    while (k < MAX_ORDER) {
      const buddy = ((p + skip) ^ (1 << k)) - skip;
      if (buddy < 0 || buddy + (1 << k) > this.pages || this.tag[buddy] !== (TAG_FREE | k)) break;
      this.unlink(buddy, k);
      if (buddy < p) p = buddy;
      k++;
    }
    this.push(p, k);
  }

  private push(ai: number, k: number): void {
    const head = this.heads[k];
    this.tag[ai] = TAG_FREE | k;
    this.next[ai] = head;
    this.prev[ai] = -1;
    if (head >= 0) this.prev[head] = ai;
    this.heads[k] = ai;
    this.counts[k]++;
    this.mask |= 1 << k;
  }

  private unlink(ai: number, k: number): void {
    const next = this.next[ai];
    const prev = this.prev[ai];
    if (prev >= 0) this.next[prev] = next;
    else this.heads[k] = next;
    if (next >= 0) this.prev[next] = prev;
    this.tag[ai] = 0;
    if (--this.counts[k] === 0) this.mask &= ~(1 << k);
  }

  /** Walks every free list and checks it against the tags and counters; throws on the first inconsistency. */
  verify(): void {
    let free = 0;
    for (let k = 0; k <= MAX_ORDER; k++) {
      let n = 0;
      let prev = -1;
      for (let ai = this.heads[k]; ai >= 0; ai = this.next[ai]) {
        if (this.tag[ai] !== (TAG_FREE | k)) throw new Error(`order ${k} list holds page ${ai} tagged ${this.tag[ai]}`);
        if (this.prev[ai] !== prev) throw new Error(`order ${k} list: page ${ai} has a broken back link`);
        if ((ai + this.skip) % (1 << k) !== 0) throw new Error(`order ${k} block at page ${ai} is misaligned`);
        if (ai + (1 << k) > this.pages) throw new Error(`order ${k} block at page ${ai} runs past the zone`);
        prev = ai;
        n++;
        if (n > this.pages) throw new Error(`order ${k} list loops`);
      }
      if (n !== this.counts[k]) throw new Error(`order ${k}: ${n} blocks listed, ${this.counts[k]} counted`);
      if ((n > 0) !== ((this.mask & (1 << k)) !== 0)) throw new Error(`order ${k}: mask bit disagrees with the list`);
      free += n * (1 << k);
    }
    if (free !== this.freePages) throw new Error(`${free} pages on free lists, ${this.freePages} counted`);
  }
}
