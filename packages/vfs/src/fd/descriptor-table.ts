import { KernelError } from '@uk/hal';
import type { Vnode } from '../node/vnode.js';
import type { Mount } from '../mount/mount-table.js';

/** What an open file may do, as bits so the fast path tests them with one mask. */
export const FD_READ = 1;
export const FD_WRITE = 2;
export const FD_APPEND = 4;
export const FD_DIRECTORY = 8;
/** The node reads and writes synchronously (readSync/writeSync). */
export const FD_SYNC = 16;

/** An open file description: the node, the access it was opened for and the file position. */
export class OpenFile {
  pos = 0;
  constructor(
    readonly node: Vnode,
    readonly flags: number,
    readonly bits: number,
    readonly mount: Mount,
  ) {}
}

/** Descriptors 0-2 are left for standard streams, as POSIX programs expect. */
export const FIRST_FD = 3;

/**
 * The descriptor table: the lowest free number is handed out first (POSIX). `slots` is
 * public so the read and write fast paths index it without a call.
 */
export class DescriptorTable {
  readonly slots: Array<OpenFile | undefined> = [undefined, undefined, undefined];
  #open = 0;
  #lowestFree = FIRST_FD;

  constructor(readonly max: number) {}

  get count(): number {
    return this.#open;
  }

  add(file: OpenFile): number {
    if (this.#open >= this.max) throw new KernelError('EMFILE', `${this.max} files are open already; close some (or raise maxOpenFiles)`);
    let fd = this.#lowestFree;
    while (this.slots[fd] !== undefined) fd++;
    this.slots[fd] = file;
    this.#open++;
    this.#lowestFree = fd + 1;
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.slots[fd];
  }

  remove(fd: number): OpenFile | undefined {
    const f = this.slots[fd];
    if (f === undefined || fd < FIRST_FD) return undefined;
    this.slots[fd] = undefined;
    this.#open--;
    if (fd < this.#lowestFree) this.#lowestFree = fd;
    return f;
  }

  *entries(): IterableIterator<[number, OpenFile]> {
    for (let fd = FIRST_FD; fd < this.slots.length; fd++) {
      const f = this.slots[fd];
      if (f !== undefined) yield [fd, f];
    }
  }
}
