import type { Fdt, FdtNode } from '@uk/fdt';
import type { Cpu, InterruptCode } from './cpu.js';
import type { Console, MemoryRegion } from './services.js';

/**
 * Init levels, run in this order (Unikraft's inittab). Components at one level start in the
 * order the application lists them.
 */
export const InitLevel = {
  /** Before anything else; nothing in uk uses it yet. */
  Early: 0,
  /** The board's drivers: interrupt controller, timer, console, power (`virt()`). */
  Platform: 1,
  /** Allocators: `Services.frames` and `Services.dma` (`buddy()`, `tlsf()`, `region()`). */
  Memory: 2,
  /** Page tables and the MMU (`paging()`). */
  Paging: 3,
  /** The scheduler (`coop()`). */
  Scheduler: 4,
  /** Device drivers (`virtioBlk()`, `virtioNet()`, ...). */
  Drivers: 5,
  /** File systems, mounted in the VFS (`ramfs()`, `fat()`). */
  FileSystems: 6,
  /** The network stack (`tcpip()`). */
  Network: 7,
  /** Components of the application itself, started just before `main`. */
  Application: 8,
} as const;
/** One of the {@link InitLevel} values. */
export type InitLevel = (typeof InitLevel)[keyof typeof InitLevel];

/** The level's name, lower case ('drivers'). */
export function initLevelName(level: InitLevel): string {
  return (Object.keys(InitLevel)[level] ?? String(level)).toLowerCase();
}

/** A typed name for a service one component provides and others use. */
export interface ServiceKey<T> {
  /** The name the service is registered under; two keys with the same id are the same service. */
  readonly id: string;
  /** What to compose to get it, for the error a person reads, e.g. "tlsf() from @uk/alloc". */
  readonly providedBy: string;
  /** Phantom: carries T. Never set. */
  readonly _type?: T;
}

/**
 * Makes a key for a service of type `T`. `providedBy` is what `uk build` and `ctx.get` print
 * when a component needs the service and nothing provides it: name the factory and its
 * package, e.g. `serviceKey<Entropy>('entropy', 'virtioRng() from @acme/virtio-rng')`.
 */
export function serviceKey<T>(id: string, providedBy: string): ServiceKey<T> {
  return { id, providedBy };
}

/** A kernel component, as every factory (`buddy()`, `virtioNet()`, ...) returns it. */
export interface Component {
  /** The component's name in reports and the manifest; drivers also claim device-tree nodes under it. */
  readonly name: string;
  /** When its `init` runs: after every component of a lower level. */
  readonly level: InitLevel;
  /** Package that implements it, for the image manifest (e.g. "@uk/alloc"). */
  readonly package?: string;
  /** Services this component needs; `uk build` rejects a kernel that lacks one. */
  readonly requires?: readonly ServiceKey<unknown>[];
  /** Services this component provides once its init has run. */
  readonly provides?: readonly ServiceKey<unknown>[];
  /** Starts the component: find devices, `ctx.get` what it requires, `ctx.provide` what it provides. May wait for devices. */
  init(ctx: KernelContext): void | Promise<void>;
  /** For a file system: where it mounts (kernel({ fs: { '/data': fat('vda') } }) sets it from the key). */
  mountPoint?: string;
}

/** How long each component took to start. */
export interface InitRecord {
  /** The component's name. */
  readonly name: string;
  /** The level it started at. */
  readonly level: InitLevel;
  /** How long its `init` took, in ns. */
  readonly ns: number;
}

/** What boot hands to every component's init and to `main`. */
export interface KernelContext {
  /** The CPU interface: RAM, MMIO, time, traps. */
  readonly cpu: Cpu;
  /** The device tree the machine handed to the kernel. */
  readonly fdt: Fdt;
  /** Where the kernel prints; text written before the platform's console exists is kept and replayed. */
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

  /** Registers `service` under `key`; a second provider of the same key is EBUSY. */
  provide<T>(key: ServiceKey<T>, service: T): void;
  /** The service, or a KernelError('ENODEV') naming what to compose. */
  get<T>(key: ServiceKey<T>): T;
  /** The service, or undefined when no component provides it (for optional services). */
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
  /** The devices of one kind registered so far, by name, in registration order. */
  devices<T>(kind: string): ReadonlyMap<string, T>;

  /** Runs at power-off, last registered first (flush caches, close sockets...). */
  onShutdown(hook: () => void | Promise<void>): void;
}
