import type { Thread } from './thread.js';

/**
 * A FIFO of threads linked through the threads themselves (`next`/`prev`), so queueing
 * allocates nothing and a cancelled waiter leaves in O(1). A thread is in at most one list:
 * the run queue or one wait queue.
 */
export class ThreadList {
  head: Thread | null = null;
  tail: Thread | null = null;
  length = 0;

  push(t: Thread): void {
    t.list = this;
    t.next = null;
    t.prev = this.tail;
    if (this.tail === null) this.head = t;
    else this.tail.next = t;
    this.tail = t;
    this.length++;
  }

  shift(): Thread | null {
    const t = this.head;
    if (t === null) return null;
    this.head = t.next;
    if (this.head === null) this.tail = null;
    else this.head.prev = null;
    t.next = null;
    t.list = null;
    this.length--;
    return t;
  }

  remove(t: Thread): void {
    if (t.list !== this) return;
    if (t.prev === null) this.head = t.next;
    else t.prev.next = t.next;
    if (t.next === null) this.tail = t.prev;
    else t.next.prev = t.prev;
    t.next = null;
    t.prev = null;
    t.list = null;
    this.length--;
  }

  *[Symbol.iterator](): IterableIterator<Thread> {
    for (let t = this.head; t !== null; t = t.next) yield t;
  }
}
