import { NetStack, type NetStackOptions } from '../../src/index.js';
import { type LinkOptions, TestLink } from './link.js';

/** Lets every pending promise continuation run (a host macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for several stacks and links in one process. run()/until() move the clock
 * from event to event — a frame due on a link, a deadline a stack's poll returned — polling
 * stacks and letting promise continuations (socket calls, the TCP helper's API) run between
 * steps. Nothing depends on the host's clock, so every run with the same seeds is the same.
 */
export class World {
  now = 0;
  readonly clock = (): number => this.now;
  readonly stacks: NetStack[] = [];
  readonly links: TestLink[] = [];
  readonly #deadlines = new Map<NetStack, number>();
  readonly #woken = new Set<NetStack>();
  #seed = 1;

  link(opts: LinkOptions = {}): TestLink {
    const l = new TestLink(this.clock, { seed: this.#seed++, ...opts });
    this.links.push(l);
    return l;
  }

  /** A stack on the world's clock; poll bookkeeping is the world's. */
  stack(opts: Partial<NetStackOptions> = {}): NetStack {
    const s = new NetStack({ seed: this.#seed++ * 7919, ...opts, now: this.clock });
    s.onWake(() => this.#woken.add(s));
    this.stacks.push(s);
    this.#woken.add(s);
    return s;
  }

  /** One pass at the current time: deliver due frames, poll stacks that are due or woken. Returns whether anything happened. */
  #step(): boolean {
    let busy = false;
    for (const l of this.links) if (l.deliver(this.now) > 0) busy = true;
    for (const s of this.stacks) {
      const due = (this.#deadlines.get(s) ?? 0) <= this.now;
      if (due || this.#woken.has(s)) {
        this.#woken.delete(s);
        this.#deadlines.set(s, s.poll());
        busy = true;
      }
    }
    return busy;
  }

  #next(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const l of this.links) t = Math.min(t, l.nextDelivery());
    for (const d of this.#deadlines.values()) t = Math.min(t, d);
    return t;
  }

  /** Runs until `ms` of virtual time have passed. */
  async run(ms: number): Promise<void> {
    await this.until(() => false, ms);
  }

  /**
   * Runs until `done()` is true (checked between steps) or `maxMs` of virtual time pass;
   * returns whether `done` became true.
   */
  async until(done: () => boolean, maxMs = 60_000): Promise<boolean> {
    const end = this.now + maxMs;
    for (;;) {
      // Settle the current instant: promise continuations may send, sends may wake stacks.
      for (let spins = 0; ; spins++) {
        await settle();
        if (done()) return true;
        if (!this.#step() && this.#woken.size === 0) break;
        if (spins > 10_000) throw new Error(`the world does not settle at t=${this.now} ms: something wakes the stacks forever`);
      }
      const next = this.#next();
      if (next > end) {
        this.now = end;
        await settle();
        return done();
      }
      this.now = Math.max(this.now, next);
    }
  }
}
