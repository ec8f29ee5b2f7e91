import { type ErrorCode, isKernelError } from '@uk/hal';
import { expect } from 'vitest';

/** Runs `fn`, expecting a KernelError with `code` whose message matches `pattern`. */
export function expectError(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isKernelError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
}
