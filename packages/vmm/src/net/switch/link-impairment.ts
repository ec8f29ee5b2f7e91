import { SeededRandom } from './seeded-random.js';

/** What a link does wrong, on purpose. Probabilities are per frame, in [0, 1]. */
export interface ImpairmentOptions {
  /** Frames lost. */
  readonly loss?: number;
  /** Frames delivered twice. */
  readonly dup?: number;
  /** Frames held back and delivered after the next one. */
  readonly reorder?: number;
  /** Every frame arrives this much later (ns; timers make it good to about a millisecond). */
  readonly delayNs?: number;
  /** Seed of the link's decisions (default 1): the same seed and the same frames give the same outcome. */
  readonly seed?: number;
}

export interface ImpairmentStats {
  passed: number;
  lost: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

/** How long a frame held back for reordering waits for a successor before it goes anyway (ns). */
const REORDER_HOLD_NS = 5e6;

export function isImpaired(o: ImpairmentOptions): boolean {
  return (o.loss ?? 0) > 0 || (o.dup ?? 0) > 0 || (o.reorder ?? 0) > 0 || (o.delayNs ?? 0) > 0;
}

/**
 * One direction of an impaired link: loss, duplication, reordering and delay, decided by a
 * seeded generator that draws the same three numbers for every frame, so that each frame's
 * fate depends only on the seed and its position in the stream.
 */
export class LinkImpairment {
  readonly stats: ImpairmentStats = { passed: 0, lost: 0, duplicated: 0, reordered: 0, delayed: 0 };
  private readonly rng: SeededRandom;
  private readonly loss: number;
  private readonly dup: number;
  private readonly reorder: number;
  private readonly delayNs: number;
  private held: Uint8Array | null = null;
  private heldTimer: NodeJS.Timeout | undefined;
  /** Frames on their way (delay line), due times in ns of the host's monotonic clock. */
  private readonly line: Array<{ due: number; frame: Uint8Array }> = [];
  private lineTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    options: ImpairmentOptions,
    private readonly deliver: (frame: Uint8Array) => void,
  ) {
    this.rng = new SeededRandom(options.seed ?? 1);
    this.loss = options.loss ?? 0;
    this.dup = options.dup ?? 0;
    this.reorder = options.reorder ?? 0;
    this.delayNs = options.delayNs ?? 0;
  }

  /** A frame enters the link (lent for the call). */
  pass(frame: Uint8Array): void {
    if (this.closed) return;
    const lose = this.rng.next() < this.loss;
    const twice = this.rng.next() < this.dup;
    const holdBack = this.rng.next() < this.reorder;
    if (lose) {
      this.stats.lost++;
      return;
    }
    if (this.held === null && holdBack) {
      this.stats.reordered++;
      this.held = frame.slice();
      this.heldTimer = setTimeout(() => this.releaseHeld(), Math.max(1, (this.delayNs + REORDER_HOLD_NS) / 1e6));
      this.heldTimer.unref();
      return;
    }
    this.emit(frame);
    if (twice) {
      this.stats.duplicated++;
      this.emit(frame);
    }
    // The frame held back goes after the one that overtook it.
    this.releaseHeld();
  }

  private releaseHeld(): void {
    const h = this.held;
    if (h === null) return;
    this.held = null;
    if (this.heldTimer !== undefined) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (!this.closed) this.emit(h);
  }

  private emit(frame: Uint8Array): void {
    this.stats.passed++;
    if (this.delayNs <= 0) {
      this.deliver(frame);
      return;
    }
    this.stats.delayed++;
    this.line.push({ due: now() + this.delayNs, frame: frame.slice() });
    if (this.lineTimer === undefined) this.arm();
  }

  private arm(): void {
    const head = this.line[0];
    if (head === undefined) return;
    this.lineTimer = setTimeout(() => this.drainLine(), Math.max(0, (head.due - now()) / 1e6));
    this.lineTimer.unref();
  }

  private drainLine(): void {
    this.lineTimer = undefined;
    const t = now();
    let k = 0;
    while (k < this.line.length && this.line[k].due <= t + 2e5) k++;
    const due = this.line.splice(0, k);
    for (const d of due) if (!this.closed) this.deliver(d.frame);
    if (!this.closed) this.arm();
  }

  /** Drops what is in flight and stops the timers. */
  close(): void {
    this.closed = true;
    if (this.heldTimer !== undefined) clearTimeout(this.heldTimer);
    if (this.lineTimer !== undefined) clearTimeout(this.lineTimer);
    this.held = null;
    this.line.length = 0;
  }
}

function now(): number {
  return Number(process.hrtime.bigint());
}
