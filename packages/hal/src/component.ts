import type { Fdt, FdtNode } from '@uk/fdt';
import type { Cpu, InterruptCode } from './cpu.js';
import type { Console, MemoryRegion } from './services.js';

/**
 * Init levels, run in this order (Unikraft's inittab). Components at one level start in the
 * order the application lists them.
 */
export const InitLevel = {
  Early: 0,
  Platform: 1,
  Memory: 2,
  Paging: 3,
  Scheduler: 4,
  Drivers: 5,
  FileSystems: 6,
  Network: 7,
  Application: 8,
} as const;
export type InitLevel = (typeof InitLevel)[keyof typeof InitLevel];

/** The level's name, lower case ('drivers'). */
export function initLevelName(level: InitLevel): string {
  return (Object.keys(InitLevel)[level] ?? String(level)).toLowerCase();
}

/** A typed name for a service one component provides and others use. */
export interface ServiceKey<T> {
  readonly id: string;
  /** What to compose to get it, for the error a person reads, e.g. "tlsf() from @uk/alloc". */
  readonly providedBy: string;
  /** Phantom: carries T. Never set. */
  readonly _type?: T;
}

export function serviceKey<T>(id: string, providedBy: string): ServiceKey<T> {
  return { id, providedBy };
}

/** A kernel component, as every factory (`buddy()`, `virtioNet()`, ...) returns it. */
export interface Component {
  readonly name: string;
  readonly level: InitLevel;
  /** Package that implements it, for the image manifest (e.g. "@uk/alloc"). */
  readonly package?: string;
  /** Services this component needs; `uk build` rejects a kernel that lacks one. */
  readonly requires?: readonly ServiceKey<unknown>[];
  /** Services this component provides once its init has run. */
  readonly provides?: readonly ServiceKey<unknown>[];
  init(ctx: KernelContext): void | Promise<void>;
  /** For a file system: where it mounts (kernel({ fs: { '/data': fat('vda') } }) sets it from the key). */
  mountPoint?: string;
}

/** How long each component took to start. */
export interface InitRecord {
  readonly name: string;
  readonly level: InitLevel;
  readonly ns: number;
}

/** What boot hands to every component's init and to `main`. */
export interface KernelContext {
  readonly cpu: Cpu;
  readonly fdt: Fdt;
  readonly console: Console;
  /** The kernel's command line, from /chosen/bootargs. */
  readonly bootargs: string;
  /**
   * RAM boot itself still occupies (the device tree blob). An allocator manages
   * `usableMemory(ctx.fdt, ctx.bootReserved)` from @uk/fdt: computed by who needs it, so a
   * kernel without an allocator carries none of it.
   */
  readonly bootReserved: readonly MemoryRegion[];
  /** Init time of every component started so far. */
  readonly initRecords: readonly InitRecord[];
  /** ns since boot at which the kernel was entered. */
  readonly entryTime: number;
  /** ns since boot at which `main` was called (NaN before). */
  readonly mainTime: number;

  /** Where the console's text goes from now on (the platform's UART); earlier text is replayed. */
  setConsole(sink: Console): void;
  /** Takes interrupt `code` (timer, external, software) and enables it in `mie`. */
  setInterruptHandler(code: InterruptCode, handler: () => void): void;

  provide<T>(key: ServiceKey<T>, service: T): void;
  /** The service, or a KernelError('ENODEV') naming what to compose. */
  get<T>(key: ServiceKey<T>): T;
  tryGet<T>(key: ServiceKey<T>): T | undefined;

  /**
   * Device-tree nodes with this `compatible` string that no driver has claimed yet, and
   * that are not `status = "disabled"`.
   */
  unclaimed(compatible: string): FdtNode[];
  /** Marks a node as driven by `driver`; throws EBUSY if another driver has it. */
  claim(node: FdtNode, driver: string): void;

  /** Registers a named device (`vda`, `eth0`, ...) for later components to find. */
  addDevice<T>(kind: string, name: string, device: T): void;
  devices<T>(kind: string): ReadonlyMap<string, T>;

  /** Runs at power-off, last registered first (flush caches, close sockets...). */
  onShutdown(hook: () => void | Promise<void>): void;
}
