import type { ThreadInfo } from '../thread/thread.js';

/** The scheduler-wide figures the dump's header shows. */
export interface DumpHeader {
  readonly threads: number;
  readonly runnable: number;
  readonly switches: number;
  readonly timers: number;
  readonly nextDeadline: number;
  readonly current: number | null;
}

/**
 * Cycles in the waits-for graph. Each blocked thread has at most one edge (to the holder of
 * what it waits on), so following edges from every thread finds each cycle once.
 */
export function findDeadlocks(threads: readonly ThreadInfo[]): ThreadInfo[][] {
  const byId = new Map<number, ThreadInfo>();
  for (const t of threads) byId.set(t.id, t);
  // 0 = unvisited, 1 = on the current path, 2 = done.
  const mark = new Map<number, number>();
  const cycles: ThreadInfo[][] = [];
  for (const start of threads) {
    if (mark.has(start.id)) continue;
    const path: ThreadInfo[] = [];
    let t: ThreadInfo | undefined = start;
    while (t !== undefined && !mark.has(t.id)) {
      mark.set(t.id, 1);
      path.push(t);
      t = t.waitsFor === null ? undefined : byId.get(t.waitsFor);
    }
    if (t !== undefined && mark.get(t.id) === 1) {
      const cycle = path.slice(path.indexOf(t));
      // Start each cycle at its lowest id, so the same deadlock always prints the same way.
      let low = 0;
      for (let i = 1; i < cycle.length; i++) if (cycle[i].id < cycle[low].id) low = i;
      cycles.push([...cycle.slice(low), ...cycle.slice(0, low)]);
    }
    for (const p of path) mark.set(p.id, 2);
  }
  return cycles;
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)}ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(3)}s`;
}

/** The text of `Scheduler.dump()`: a header, one row per thread, then any deadlock. */
export function formatDump(threads: readonly ThreadInfo[], header: DumpHeader): string {
  const count = (s: string): number => threads.filter((t) => t.state === s).length;
  const lines: string[] = [];
  lines.push(
    `sched: ${header.threads} threads (${count('running')} running, ${count('runnable')} runnable, ${count('blocked')} blocked, ${count('sleeping')} sleeping), ` +
      `${header.switches} switches, ${header.timers} timer${header.timers === 1 ? '' : 's'}${header.timers > 0 ? ` (next at ${formatNs(header.nextDeadline)})` : ''}`,
  );
  const byId = new Map<number, ThreadInfo>();
  for (const t of threads) byId.set(t.id, t);
  const rows: string[][] = [['id', 'name', 'prio', 'state', 'waits on', 'switches', 'run time']];
  for (const t of threads) {
    let waits = '';
    if (t.waitsOn !== null) {
      waits = t.waitsOn;
      if (t.waitsFor !== null) {
        const h = byId.get(t.waitsFor);
        waits += ` held by #${t.waitsFor}${h === undefined ? '' : ` ${h.name}`}`;
      }
    } else if (t.wakeAt !== null) {
      waits = `timer at ${formatNs(t.wakeAt)}`;
    } else if (t.state === 'sleeping') {
      waits = 'forever';
    }
    const state = t.cancelled ? `${t.state}*` : t.state;
    rows.push([String(t.id), t.name, String(t.priority), state, waits, String(t.switches), formatNs(t.runTime)]);
  }
  const right = new Set([0, 2, 5, 6]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(`  ${r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}`.trimEnd());
  if (threads.some((t) => t.cancelled)) lines.push('  (* cancelled)');
  for (const cycle of findDeadlocks(threads)) {
    lines.push(`deadlock: ${[...cycle, cycle[0]].map((t) => `#${t.id} ${t.name}`).join(' -> ')}`);
  }
  return lines.join('\n');
}
