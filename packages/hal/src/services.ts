/**
 * The interfaces through which components use each other. A component depends on these,
 * never on another component's implementation, so a third-party package can stand in for
 * any of them.
 */

/** Where the kernel prints (the UART on the virt board). */
export interface Console {
  /** Prints `text` as it is (add the newline yourself). */
  write(text: string): void;
}

/** The platform's interrupt controller (the PLIC on the virt board). */
export interface IrqController {
  /** Routes interrupt `line` to `handler` and enables it. One handler per line. */
  register(line: number, handler: () => void): void;
  /** Disables interrupt `line` and forgets its handler. */
  unregister(line: number): void;
}

/**
 * A one-shot timer: one deadline programmed at a time (the CLINT's mtimecmp). The scheduler
 * multiplexes its timers onto it.
 */
export interface ClockEvent {
  /** ns since boot. */
  now(): number;
  /** Programs the next expiry (ns since boot); `Infinity` disarms it. */
  setDeadline(deadline: number): void;
  /** The deadline programmed now (Infinity when disarmed). */
  readonly deadline: number;
  /** Called from the timer interrupt once `now() >= deadline`; the timer is disarmed first. */
  onExpire(handler: () => void): void;
}

/** The machine's power control (the sifive test device on the virt board). */
export interface PowerControl {
  /** Stops the machine; `code` becomes the exit status of the VMM. Never returns normally. */
  powerOff(code: number): void;
  /** Resets the machine: the VMM boots the image again. */
  reboot(): void;
}

/** Physical page frames (a buddy allocator, a region allocator...). */
export interface FrameAllocator {
  /** Allocates `bytes` (rounded up to whole pages) aligned to `align` bytes; returns a physical address. */
  allocFrames(bytes: number, align?: number): number;
  /** Gives back `bytes` at `addr`, as allocated. */
  freeFrames(addr: number, bytes: number): void;
  /** Bytes free now. */
  readonly freeBytes: number;
  /** Bytes managed. */
  readonly totalBytes: number;
}

/** Byte-granular memory that devices can reach by DMA; addresses are physical. */
export interface DmaHeap {
  /** Allocates `bytes` aligned to `align` (a power of two); returns the physical address. ENOMEM when nothing fits. */
  alloc(bytes: number, align?: number): number;
  /** Frees the allocation that starts at `addr`. */
  free(addr: number): void;
}

/** A piece of RAM that boot found free: what allocators may manage. */
export interface MemoryRegion {
  /** Physical address of the first byte. */
  readonly base: number;
  /** Bytes. */
  readonly size: number;
}

/** Many timers on the platform's one clock event: whoever owns the clock (the scheduler) provides them. */
export interface Timers {
  /** Calls `fn` from the timer interrupt once the clock reads `deadline` (ns since boot). */
  setTimer(
    deadline: number,
    fn: () => void,
  ): {
    /** Stops the timer if it has not fired yet. */
    cancel(): void;
  };
}

/** Runs async functions as threads (the cooperative scheduler of @uk/sched). */
export interface ThreadSpawner {
  /** Starts `fn` as a thread named `name`; resolves or rejects with its outcome. */
  spawn<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Blocks the calling thread until `promise` settles, letting other threads run meanwhile.
   * A thread keeps the CPU across a plain `await` of a promise the scheduler does not know
   * (a device's), so components that wait on hardware wait through this when it exists.
   */
  waitFor<T>(promise: Promise<T>): Promise<T>;
}
