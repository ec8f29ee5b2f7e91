/** A timer of the core, cancellable. */
export interface CoreTimer {
  cancel(): void;
}

interface Entry extends CoreTimer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * The core's one-shot timers (ms of the owner's clock), in a binary heap; run by
 * NetStack.poll. Equal deadlines fire in the order they were armed. Cancelled entries are
 * dropped lazily, and compacted away when they outnumber the live ones.
 */
export class TimerQueue {
  #heap: Entry[] = [];
  #seq = 0;
  #dead = 0;

  constructor(private readonly now: () => number) {}

  at(time: number, fn: () => void): CoreTimer {
    const e: Entry = {
      at: time,
      seq: this.#seq++,
      fn,
      cancel: () => {
        if (e.fn === null) return;
        e.fn = null;
        this.#dead++;
        if (this.#dead > 64 && this.#dead * 2 > this.#heap.length) this.#compact();
      },
    };
    this.#push(e);
    return e;
  }

  after(ms: number, fn: () => void): CoreTimer {
    return this.at(this.now() + ms, fn);
  }

  /** Runs every timer due at `now`, including ones armed by those it runs; returns the next deadline. */
  run(now: number): number {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined) return Number.POSITIVE_INFINITY;
      if (top.fn === null) {
        this.#pop();
        this.#dead--;
        continue;
      }
      if (top.at > now) return top.at;
      this.#pop();
      const fn = top.fn;
      top.fn = null;
      fn();
    }
  }

  get next(): number {
    while (this.#heap.length > 0 && this.#heap[0].fn === null) {
      this.#pop();
      this.#dead--;
    }
    return this.#heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.#heap.length - this.#dead;
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  #compact(): void {
    const live = this.#heap.filter((e) => e.fn !== null);
    this.#heap = [];
    this.#dead = 0;
    for (const e of live) this.#push(e);
  }
}
