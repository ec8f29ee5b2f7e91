/**
 * A cluster chain as runs of consecutive clusters: where the n-th cluster of a file is,
 * without walking the FAT again. Sequential access finds its run from a cursor in O(1).
 */
export class Extents {
  /** First cluster of each run. */
  readonly starts: number[] = [];
  /** Clusters in each run. */
  readonly lengths: number[] = [];
  /** Index in the file of each run's first cluster. */
  readonly firsts: number[] = [];
  /** Clusters in the chain. */
  count = 0;
  #cursor = 0;

  push(cluster: number): void {
    const k = this.starts.length - 1;
    if (k >= 0 && this.starts[k] + this.lengths[k] === cluster) {
      this.lengths[k]++;
    } else {
      this.starts.push(cluster);
      this.lengths.push(1);
      this.firsts.push(this.count);
    }
    this.count++;
  }

  /** Appends `length` consecutive clusters from `start`. */
  pushRun(start: number, length: number): void {
    const k = this.starts.length - 1;
    if (k >= 0 && this.starts[k] + this.lengths[k] === start) {
      this.lengths[k] += length;
    } else {
      this.starts.push(start);
      this.lengths.push(length);
      this.firsts.push(this.count);
    }
    this.count += length;
  }

  /** The last cluster, or 0 for an empty chain. */
  get last(): number {
    const k = this.starts.length - 1;
    return k < 0 ? 0 : this.starts[k] + this.lengths[k] - 1;
  }

  get first(): number {
    return this.starts.length === 0 ? 0 : this.starts[0];
  }

  /** The run holding file cluster `index` (which must be < count). */
  run(index: number): number {
    let k = this.#cursor;
    if (k >= this.starts.length || index < this.firsts[k]) k = 0;
    if (index >= this.firsts[k] + this.lengths[k]) {
      // Binary search when the cursor is no help.
      let lo = k;
      let hi = this.starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (this.firsts[mid] <= index) lo = mid;
        else hi = mid - 1;
      }
      k = lo;
    }
    this.#cursor = k;
    return k;
  }

  /** The disk cluster of file cluster `index`. */
  cluster(index: number): number {
    const k = this.run(index);
    return this.starts[k] + (index - this.firsts[k]);
  }

  /** Keeps the first `n` clusters. */
  truncate(n: number): void {
    if (n >= this.count) return;
    if (n === 0) {
      this.starts.length = this.lengths.length = this.firsts.length = 0;
      this.count = 0;
      this.#cursor = 0;
      return;
    }
    const k = this.run(n - 1);
    this.lengths[k] = n - this.firsts[k];
    this.starts.length = this.lengths.length = this.firsts.length = k + 1;
    this.count = n;
    this.#cursor = 0;
  }

  /** Every cluster, in order. */
  *clusters(): IterableIterator<number> {
    for (let k = 0; k < this.starts.length; k++) for (let i = 0; i < this.lengths[k]; i++) yield this.starts[k] + i;
  }
}
