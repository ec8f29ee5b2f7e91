import { exceptionName, type Trap } from '@uk/hal';

export function describeTrap(trap: Trap): string {
  if (trap.kind === 'interrupt') return `interrupt ${trap.code}`;
  return `${exceptionName(trap.code)} at 0x${trap.addr.toString(16)}: ${trap.reason}`;
}

/** The panic report: what, while doing what, and where (the stack). */
export function formatPanic(e: unknown, phase: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = (err.stack ?? '').split('\n').slice(1).join('\n');
  const errCode = (err as unknown as { code?: unknown }).code;
  const code = typeof errCode === 'string' ? ` [${errCode}]` : '';
  return `\npanic while ${phase}: ${err.message}${code}\n${stack}${stack ? '\n' : ''}`;
}
