// Scheduler benchmark: yield ping-pong between two threads, memory per sleeping thread, and
// timer lateness on a real clock — each against a baseline measured in the same run.
// Build first (pnpm --filter @uk/sched build), then:  node bench/sched/index.mjs
// UK_BENCH_SWITCHES: yields per thread and round (default 1,000,000); UK_BENCH_ROUNDS: rounds
// (default 3, the best counts); UK_BENCH_THREADS: sleeping threads (default 100,000);
// UK_BENCH_SLEEPS: timer samples (default 2,000).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, printTable, quantile } from '../table.mjs';

const dist = new URL('../../packages/sched/dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  console.error('packages/sched/dist is missing: build it first with  pnpm --filter @uk/sched build');
  process.exit(1);
}
// Memory figures need a collector we can call: re-run ourselves with --expose-gc.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { Scheduler, VirtualClock } = await import(dist.href);

const SWITCHES = Number(process.env.UK_BENCH_SWITCHES ?? 1_000_000);
const ROUNDS = Number(process.env.UK_BENCH_ROUNDS ?? 3);
const THREADS = Number(process.env.UK_BENCH_THREADS ?? 100_000);
const SLEEPS = Number(process.env.UK_BENCH_SLEEPS ?? 2_000);

const macrotask = () => new Promise((r) => setImmediate(r));

/** Bytes in use on the V8 heap after a full collection. */
function heap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}


/**
 * A ClockEvent on the host's monotonic clock, with the idle loop boot would run: once the
 * guest is quiescent, wait for the programmed deadline, then deliver the timer interrupt.
 * `driver` says how the wait is done on the host:
 *  - 'setTimeout': one host timer to the deadline (ms granularity, like an event-loop VMM);
 *  - 'setTimeout+poll': a host timer to 1 ms before, then setImmediate turns until it is due
 *    (the host spins for the last ms; the guest does not).
 */
class HostClock {
  #t0 = process.hrtime.bigint();
  #handler = () => {};
  deadline = Number.POSITIVE_INFINITY;
  now() {
    return Number(process.hrtime.bigint() - this.#t0);
  }
  setDeadline(d) {
    this.deadline = d;
  }
  onExpire(handler) {
    this.#handler = handler;
  }
  /** The idle loop: returns when `done()` holds at a quiescent point. */
  async idle(driver, done) {
    for (;;) {
      await macrotask(); // quiescent: every microtask has run
      if (done()) return;
      const d = this.deadline;
      if (d === Number.POSITIVE_INFINITY) throw new Error('idle with no timer armed and work left: a lost wake-up');
      const left = d - this.now();
      if (left > 0) {
        if (driver === 'setTimeout') await new Promise((r) => setTimeout(r, Math.ceil(left / 1e6)));
        else if (left > 1.5e6) await new Promise((r) => setTimeout(r, Math.floor(left / 1e6) - 1));
        continue; // re-read the deadline and the time
      }
      this.deadline = Number.POSITIVE_INFINITY;
      this.#handler();
    }
  }
}

// ── yield ping-pong ───────────────────────────────────────────────────────────────────────

async function bareAwait(n) {
  const body = async () => {
    for (let i = 0; i < n; i++) await Promise.resolve();
  };
  const t0 = performance.now();
  await Promise.all([body(), body()]);
  return (2 * n) / ((performance.now() - t0) / 1e3);
}

/** The least a promise-driven switch can cost: each side parks on a new promise and resolves the other's. */
async function bareHandoff(n) {
  let wake = null;
  const body = async () => {
    for (let i = 0; i < n; i++) {
      const other = wake;
      const p = new Promise((r) => {
        wake = r;
      });
      if (other !== null) other();
      await p;
    }
    const other = wake;
    wake = null;
    other?.();
  };
  const t0 = performance.now();
  await Promise.all([body(), body()]);
  return (2 * n) / ((performance.now() - t0) / 1e3);
}

async function schedPingPong(n, clock, accounting) {
  const s = new Scheduler({ clock, accounting });
  const body = async () => {
    for (let i = 0; i < n; i++) await s.yield();
  };
  const t0 = performance.now();
  const a = s.spawn('ping', body);
  const b = s.spawn('pong', body);
  await a.done;
  await b.done;
  const rate = s.stats.switches / ((performance.now() - t0) / 1e3);
  return rate;
}

async function best(fn) {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await fn());
  return top;
}

const base = await best(() => bareAwait(SWITCHES));
const handoff = await best(() => bareHandoff(SWITCHES));
const schedOff = await best(() => schedPingPong(SWITCHES, new VirtualClock(), false));
const schedOn = await best(() => schedPingPong(SWITCHES, new HostClock(), true));
const M = (x) => x / 1e6;
printTable(
  `yield ping-pong, 2 threads, ${SWITCHES.toLocaleString('en-US')} yields each, best of ${ROUNDS} (goal: >= 5 M switches/s)`,
  ['case', 'M switches/s', 'ns/switch', 'vs await'],
  [
    ['baseline: two loops of `await Promise.resolve()` (M awaits/s)', M(base), 1e9 / base, 1],
    ['baseline: hand-off through a new promise per switch', M(handoff), 1e9 / handoff, handoff / base],
    ['sched.yield(), run-time accounting off', M(schedOff), 1e9 / schedOff, schedOff / base],
    ['sched.yield(), accounting on (hrtime clock read per switch)', M(schedOn), 1e9 / schedOn, schedOn / base],
  ],
);

// ── timer lateness ────────────────────────────────────────────────────────────────────────

// A fixed pseudo-random sequence of sleep lengths, 0.2 to 3 ms, so every case sleeps the same.
function durations(n) {
  let x = 0x2545f491;
  const out = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push(200_000 + ((x >>> 0) % 2_800_000));
  }
  return out;
}
const WORKERS = 50;
const plan = durations(SLEEPS);
const perWorker = Math.ceil(SLEEPS / WORKERS);

/** Host baseline: each worker an async loop on `setTimeout`, lateness against hrtime. */
async function hostTimers() {
  const t0 = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - t0);
  const late = [];
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let k = 0; k < perWorker; k++) {
        const ns = plan[w * perWorker + k];
        if (ns === undefined) return;
        const deadline = now() + ns;
        await new Promise((r) => setTimeout(r, Math.ceil(ns / 1e6)));
        late.push(now() - deadline);
      }
    }),
  );
  return late;
}

async function schedTimers(driver) {
  const clock = new HostClock();
  const s = new Scheduler({ clock });
  const late = [];
  let early = 0;
  for (let w = 0; w < WORKERS; w++) {
    s.spawn(`worker${w}`, async () => {
      for (let k = 0; k < perWorker; k++) {
        const ns = plan[w * perWorker + k];
        if (ns === undefined) return;
        const deadline = clock.now() + ns;
        await s.sleepUntil(deadline);
        const l = clock.now() - deadline;
        if (l < 0) early++;
        late.push(l);
      }
    });
  }
  await clock.idle(driver, () => s.stats.threads === 0);
  if (early > 0) throw new Error(`${early} timers fired early`);
  return late;
}

const us = (ns) => ns / 1e3;
const ratio = (r) => r.toPrecision(2);
// A collection before each case, so no case pays for another's garbage.
heap();
const hostLate = await hostTimers();
heap();
const toLate = await schedTimers('setTimeout');
heap();
const pollLate = await schedTimers('setTimeout+poll');
const hostMed = median(hostLate);
printTable(
  `timer lateness: ${WORKERS} threads, ${SLEEPS.toLocaleString('en-US')} sleeps of 0.2-3 ms (time from deadline to the thread running again)`,
  ['case (what drives it)', 'median µs', 'p99 µs', 'max µs', 'median vs host'],
  [
    ['baseline: host setTimeout per sleep (Node timers)', us(hostMed), us(quantile(hostLate, 0.99)), us(Math.max(...hostLate)), 1],
    ['sched, idle loop on setTimeout to the deadline', us(median(toLate)), us(quantile(toLate, 0.99)), us(Math.max(...toLate)), ratio(median(toLate) / hostMed)],
    ['sched, idle loop on setTimeout to deadline-1ms, then setImmediate', us(median(pollLate)), us(quantile(pollLate, 0.99)), us(Math.max(...pollLate)), ratio(median(pollLate) / hostMed)],
  ],
);
console.log('No timer fired early (checked on every sample). The guest never polls: only the host idle loop above waits.');

// ── memory per sleeping thread ────────────────────────────────────────────────────────────

async function bareParked(n) {
  const wakers = [];
  const before = heap();
  const t0 = performance.now();
  const all = [];
  for (let i = 0; i < n; i++) {
    all.push(
      (async () => {
        await new Promise((r) => wakers.push(r));
      })(),
    );
  }
  await macrotask();
  const ms = performance.now() - t0;
  const bytes = (heap() - before) / n;
  for (const w of wakers) w();
  await Promise.all(all);
  return { bytes, ms };
}

async function schedSleeping(n) {
  const clock = new VirtualClock();
  const s = new Scheduler({ clock });
  const before = heap();
  const t0 = performance.now();
  const threads = [];
  for (let i = 0; i < n; i++) threads.push(s.spawn(`sleeper${i}`, () => s.sleep(1e12 + i)));
  await macrotask();
  const ms = performance.now() - t0;
  if (s.stats.timers !== n) throw new Error(`expected ${n} sleepers, found ${s.stats.timers}`);
  const bytes = (heap() - before) / n;
  const t1 = performance.now();
  for (const t of threads) t.cancel();
  await macrotask();
  const cancelMs = performance.now() - t1;
  if (s.stats.threads !== 0) throw new Error('threads left after cancelling them all');
  return { bytes, ms, cancelMs };
}

const bp = await bareParked(THREADS);
const ss = await schedSleeping(THREADS);
printTable(
  `memory with ${THREADS.toLocaleString('en-US')} sleeping threads (V8 heap after GC)`,
  ['case', 'bytes/thread', 'start ns/thread', 'vs bare'],
  [
    ['baseline: async function parked on a pending promise', bp.bytes, (bp.ms * 1e6) / THREADS, 1],
    ['sched thread in sleep() (name, timer slot, state)', ss.bytes, (ss.ms * 1e6) / THREADS, ss.bytes / bp.bytes],
    ['  (cancelling them all afterwards, ns/thread)', '', (ss.cancelMs * 1e6) / THREADS, ''],
  ],
);

// Inside a guest on the machine (the figure the issue asks for: ping-pong in inline mode),
// with run-time accounting on as coop() composes it by default.
{
  const { buildApp, findApp } = await import(new URL('../../packages/cli/dist/index.js', import.meta.url).href);
  const { Machine, readImage } = await import(new URL('../../packages/vmm/dist/index.js', import.meta.url).href);
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { imagePath } = await buildApp(findApp(fileURLToPath(new URL('./guest', import.meta.url))), mkdtempSync(join(tmpdir(), 'uk-sched-')));
  const rows = [];
  for (const mode of ['inline', 'isolated']) {
    let best = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let text = '';
      const res = await new Machine({ image: readImage(imagePath), mode, bootargs: `SWITCHES=${SWITCHES} -- bench`, output: (b) => (text += Buffer.from(b).toString()) }).run();
      if (res.exitCode !== 0) throw new Error(res.message);
      const m = /switches=(\d+) ns=(\d+)/.exec(text);
      best = Math.max(best, Number(m[1]) / (Number(m[2]) / 1e9));
    }
    rows.push([`sched.yield() in a guest, ${mode} mode`, best / 1e6, 1e9 / best, '5.00', (best / 5e6).toFixed(2) + 'x']);
  }
  printTable(`yield ping-pong inside a guest (2 threads, ${SWITCHES.toLocaleString('en-US')} yields each, best of ${ROUNDS})`, ['where', 'M switches/s', 'ns/switch', 'goal M/s', 'vs goal'], rows);
}
