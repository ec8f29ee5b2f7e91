/**
 * One `fill` call: which parts of the caller's buffer are still to be asked for. Parts are
 * handed out in order; a part the device answered only in part comes back as a shorter part
 * (its missing tail) and is handed out again first.
 */
export class FillJob {
  /** The first byte never handed out. */
  private next = 0;
  /** Tails to ask for again, as [start, length] pairs. */
  private readonly again: Array<[number, number]> = [];
  /** Answers of zero bytes in a row, across every request of this job. */
  emptyAnswers = 0;
  /** Set once a request failed: the rest of the job stops and the fill rejects with it. */
  failed: Error | undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** The most bytes one request asks for. */
    private readonly chunk: number,
  ) {}

  /** The next [start, length] to ask the device for, or undefined when none is left. */
  take(): [number, number] | undefined {
    if (this.failed !== undefined) return undefined;
    const retry = this.again.pop();
    if (retry !== undefined) return retry;
    if (this.next >= this.bytes.length) return undefined;
    const start = this.next;
    const len = Math.min(this.chunk, this.bytes.length - start);
    this.next += len;
    return [start, len];
  }

  /** The device wrote `got` of the `len` bytes asked for at `start`: whatever is missing is asked for again. */
  answered(start: number, len: number, got: number): void {
    if (got < len) this.again.push([start + got, len - got]);
    this.emptyAnswers = got === 0 ? this.emptyAnswers + 1 : 0;
  }
}
