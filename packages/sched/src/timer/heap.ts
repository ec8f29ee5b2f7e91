/**
 * A binary min-heap of deadlines in typed arrays. Each timer lives in a slot (reused after it
 * fires or is cancelled); the heap holds slot numbers. Equal deadlines leave in the order they
 * were added (a sequence number breaks ties), so timer order is deterministic.
 */
export class TimerHeap<O> {
  #deadline = new Float64Array(16);
  #seq = new Float64Array(16);
  /** Position of the slot in #heap, -1 when the slot is free. */
  #pos = new Int32Array(16).fill(-1);
  #owner: (O | undefined)[] = [];
  #heap = new Int32Array(16);
  #size = 0;
  /** Free slots, as a stack. */
  #free = new Int32Array(16);
  #freeCount = 0;
  #slots = 0;
  #counter = 0;

  get size(): number {
    return this.#size;
  }

  /** Earliest deadline, Infinity when empty. */
  get top(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : this.#deadline[this.#heap[0]];
  }

  /** The slot with the earliest deadline, -1 when empty. */
  get topSlot(): number {
    return this.#size === 0 ? -1 : this.#heap[0];
  }

  deadlineOf(slot: number): number {
    return this.#deadline[slot];
  }

  ownerOf(slot: number): O {
    return this.#owner[slot] as O;
  }

  /** Identifies this use of the slot, so a stale handle cannot cancel a later timer. */
  seqOf(slot: number): number {
    return this.#pos[slot] < 0 ? -1 : this.#seq[slot];
  }

  insert(deadline: number, owner: O): number {
    const slot = this.#allocSlot();
    this.#deadline[slot] = deadline;
    this.#seq[slot] = this.#counter++;
    this.#owner[slot] = owner;
    if (this.#size === this.#heap.length) this.#heap = grow(this.#heap, this.#heap.length * 2);
    const i = this.#size++;
    this.#heap[i] = slot;
    this.#pos[slot] = i;
    this.#up(i);
    return slot;
  }

  /** Removes a timer that is still in the heap and frees its slot. */
  remove(slot: number): void {
    const i = this.#pos[slot];
    if (i < 0) return;
    const last = --this.#size;
    if (i !== last) {
      const moved = this.#heap[last];
      this.#heap[i] = moved;
      this.#pos[moved] = i;
      if (i > 0 && this.#less(moved, this.#heap[(i - 1) >> 1])) this.#up(i);
      else this.#down(i);
    }
    this.#release(slot);
  }

  /** Removes the earliest timer and returns its owner (the heap must not be empty). */
  pop(): O {
    const slot = this.#heap[0];
    const owner = this.#owner[slot] as O;
    this.remove(slot);
    return owner;
  }

  #allocSlot(): number {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount];
    const slot = this.#slots++;
    if (slot === this.#deadline.length) {
      const n = slot * 2;
      this.#deadline = grow(this.#deadline, n);
      this.#seq = grow(this.#seq, n);
      const pos = new Int32Array(n).fill(-1);
      pos.set(this.#pos);
      this.#pos = pos;
    }
    return slot;
  }

  #release(slot: number): void {
    this.#pos[slot] = -1;
    this.#owner[slot] = undefined;
    if (this.#freeCount === this.#free.length) this.#free = grow(this.#free, this.#free.length * 2);
    this.#free[this.#freeCount++] = slot;
  }

  #less(a: number, b: number): boolean {
    const da = this.#deadline[a];
    const db = this.#deadline[b];
    return da < db || (da === db && this.#seq[a] < this.#seq[b]);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const slot = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!this.#less(slot, p)) break;
      heap[i] = p;
      this.#pos[p] = i;
      i = parent;
    }
    heap[i] = slot;
    this.#pos[slot] = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = this.#size;
    const slot = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#less(heap[child + 1], heap[child])) child++;
      const c = heap[child];
      if (!this.#less(c, slot)) break;
      heap[i] = c;
      this.#pos[c] = i;
      i = child;
    }
    heap[i] = slot;
    this.#pos[slot] = i;
  }
}

function grow<A extends Float64Array | Int32Array>(a: A, n: number): A {
  const b = new (a.constructor as new (n: number) => A)(n);
  b.set(a);
  return b;
}
