import { KernelError, isKernelError } from '@uk/hal';
import type { CancelSignalLike } from '../cancel/signal.js';
import type { Scheduler } from '../scheduler.js';
import { RESOLVED } from '../thread/resolved.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A bounded FIFO of messages between threads (Unikraft's `uk_mbox`). `send` blocks while
 * `capacity` messages wait (back-pressure); `recv` blocks while none do. Capacity 0 makes
 * every send a rendezvous with a receiver. Messages leave in the order they were sent, and
 * blocked senders and receivers are served in arrival order.
 *
 * `close()` ends it: blocked and later senders get EPIPE; receivers drain what is buffered,
 * then get EPIPE. `for await (const m of channel)` stops at the close.
 */
export class Channel<T> {
  readonly capacity: number;
  readonly name: string;
  #ring: (T | undefined)[];
  #head = 0;
  #count = 0;
  #closed = false;
  /** @internal Senders waiting for room, each with its message in `payload`. */
  readonly senders: WaitQueue;
  /** @internal */
  readonly receivers: WaitQueue<T>;

  constructor(
    readonly sched: Scheduler,
    capacity: number,
    name = 'channel',
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new KernelError('EINVAL', `channel "${name}": capacity ${capacity} must be an integer >= 0 (0 for a rendezvous)`);
    }
    this.capacity = capacity;
    this.name = name;
    this.#ring = new Array(capacity);
    this.senders = new WaitQueue(sched, name, 'channel.send');
    this.receivers = new WaitQueue<T>(sched, name, 'channel.recv');
  }

  /** Messages buffered now. */
  get length(): number {
    return this.#count;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(message: T, signal?: CancelSignalLike): Promise<void> {
    const t = this.sched.current;
    if (t !== null) {
      const refused = this.sched._refuse(t, signal, `send to channel "${this.name}"`);
      if (refused !== null) return refused;
    }
    if (this.#closed) return Promise.reject(this.#closedError('send to'));
    if (this.trySend(message)) return RESOLVED;
    const self = this.sched._require(`send to channel "${this.name}"`);
    self.payload = message;
    return this.senders._waitAs(self, signal, true);
  }

  /** Sends without blocking; false when the channel is full. Allowed from anywhere. */
  trySend(message: T): boolean {
    if (this.#closed) throw this.#closedError('send to');
    if (this.receivers.wakeOne(message)) return true;
    if (this.#count === this.capacity) return false;
    this.#push(message);
    return true;
  }

  recv(signal?: CancelSignalLike): Promise<T> {
    const t = this.sched.current;
    if (t !== null) {
      const refused = this.sched._refuse(t, signal, `receive from channel "${this.name}"`);
      if (refused !== null) return refused;
    }
    if (this.#count > 0 || this.senders.length > 0) return Promise.resolve(this.#take());
    if (this.#closed) return Promise.reject(this.#closedError('receive from'));
    const self = this.sched._require(`receive from channel "${this.name}"`);
    return this.receivers._waitAs(self, signal, true);
  }

  /** The next message, or undefined when none is there (never blocks; allowed from anywhere). */
  tryRecv(): T | undefined {
    if (this.#count > 0 || this.senders.length > 0) return this.#take();
    return undefined;
  }

  /** Closes the channel: waiting senders and receivers get EPIPE; buffered messages stay receivable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.senders.wakeAllError(this.#closedError('send to'));
    this.receivers.wakeAllError(this.#closedError('receive from'));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      if (this.#closed && this.#count === 0 && this.senders.length === 0) return;
      try {
        yield await this.recv();
      } catch (e) {
        if (this.#closed && isKernelError(e, 'EPIPE')) return;
        throw e;
      }
    }
  }

  /** The oldest message (buffer first, then a waiting sender's), refilling from waiting senders. */
  #take(): T {
    let message: T;
    if (this.#count > 0) {
      message = this.#ring[this.#head] as T;
      this.#ring[this.#head] = undefined;
      this.#head = this.#head + 1 === this.capacity ? 0 : this.#head + 1;
      this.#count--;
      const sender = this.senders.first;
      if (sender !== null) {
        this.#push(sender.payload as T);
        sender.payload = undefined;
        this.senders.wakeOne();
      }
    } else {
      const sender = this.senders.first;
      if (sender === null) throw new KernelError('EAGAIN', `channel "${this.name}" is empty`);
      message = sender.payload as T;
      sender.payload = undefined;
      this.senders.wakeOne();
    }
    return message;
  }

  #push(message: T): void {
    let tail = this.#head + this.#count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.#ring[tail] = message;
    this.#count++;
  }

  #closedError(what: string): KernelError {
    return new KernelError('EPIPE', `${what} channel "${this.name}", which is closed`);
  }
}
