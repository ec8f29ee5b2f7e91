import { plainWait, type Waiter } from './waiter.js';

/**
 * One operation at a time on a file system whose operations wait for a device: each caller
 * runs after the previous one has finished, in arrival order. Waiting goes through the
 * Waiter, so with a scheduler a thread that queues here lets the holder run.
 */
export class FsLock {
  #tail: Promise<void> = Promise.resolve();
  /** Operations running or queued. */
  #queued = 0;

  constructor(private readonly wait: Waiter = plainWait) {}

  /** Whether an operation is running or queued. */
  get busy(): boolean {
    return this.#queued > 0;
  }

  async run<T>(op: () => Promise<T>): Promise<T> {
    const before = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => {
      release = r;
    });
    if (this.#queued++ > 0) await this.wait(before);
    try {
      return await op();
    } finally {
      this.#queued--;
      release();
    }
  }
}
