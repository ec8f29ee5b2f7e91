import { KernelError, isKernelError } from '@uk/hal';

/**
 * What every cancellable call accepts: an object with `aborted`, `reason` and
 * `addEventListener('abort', listener)` (plus `removeEventListener`, used when present to
 * drop the listener once the wait is over). {@link CancelSignal} fits, and so does a host's
 * `AbortSignal` — the guest has none (it is not an ECMAScript built-in), which is why this
 * package brings its own.
 */
export interface CancelSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** A one-shot cancellation flag with listeners, shaped like the web's `AbortSignal`. */
export class CancelSignal implements CancelSignalLike {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: (() => void)[] | null = null;
  /** Called once, after the listeners, when the signal aborts. */
  onabort: (() => void) | null = null;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  addEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.#aborted) return;
    if (this.#listeners === null) this.#listeners = [];
    this.#listeners.push(listener);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.#listeners === null) return;
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** Throws the reason (as a {@link KernelError}) if the signal has aborted. */
  throwIfAborted(): void {
    if (this.#aborted) throw cancelError(this.#reason, 'the operation');
  }

  /** @internal Used by {@link CancelController.abort}. */
  _abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
    this.onabort?.();
  }
}

/** Owns a {@link CancelSignal} and aborts it, like the web's `AbortController`. */
export class CancelController {
  readonly signal = new CancelSignal();

  /** Aborts the signal; the default reason is a KernelError('ECANCELED'). Only the first call counts. */
  abort(reason?: unknown): void {
    this.signal._abort(reason === undefined ? new KernelError('ECANCELED', 'cancelled by CancelController.abort()') : reason);
  }
}

/**
 * The error a wait rejects with when it is cancelled: the reason itself when it already is a
 * KernelError (so a timeout signal yields ETIMEDOUT), else ECANCELED naming `what` and the reason.
 */
export function cancelError(reason: unknown, what: string): KernelError {
  if (isKernelError(reason)) return reason;
  const why = reason === undefined ? '' : `: ${reason instanceof Error ? reason.message : String(reason)}`;
  return new KernelError('ECANCELED', `${what} was cancelled${why}`);
}
