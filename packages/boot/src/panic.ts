import type { Trap } from '@uk/hal';

const causes: Record<number, string> = {
  1: 'instruction access fault',
  5: 'load access fault',
  7: 'store access fault',
  12: 'instruction page fault',
  13: 'load page fault',
  15: 'store page fault',
};

export function describeTrap(trap: Trap): string {
  if (trap.kind === 'interrupt') return `interrupt ${trap.code}`;
  return `${causes[trap.code] ?? `exception ${trap.code}`} at 0x${trap.addr.toString(16)}: ${trap.reason}`;
}

/** The panic report: what, while doing what, and where (the stack). */
export function formatPanic(e: unknown, phase: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = (err.stack ?? '').split('\n').slice(1).join('\n');
  const errCode = (err as unknown as { code?: unknown }).code;
  const code = typeof errCode === 'string' ? ` [${errCode}]` : '';
  return `\npanic while ${phase}: ${err.message}${code}\n${stack}${stack ? '\n' : ''}`;
}
