import { type Fdt, type FdtNode, isEnabled } from '@uk/fdt';
import {
  type Console,
  type Cpu,
  type InitRecord,
  type InterruptCode,
  KernelError,
  type KernelContext,
  type MemoryRegion,
  type ServiceKey,
} from '@uk/hal';
import type { BootConsole } from './console.js';

/** The KernelContext every component's init and `main` receive. */
export class BootContext implements KernelContext {
  readonly initRecords: InitRecord[] = [];
  mainTime = Number.NaN;
  readonly #services = new Map<string, unknown>();
  readonly #claims = new Map<FdtNode, string>();
  readonly #deviceTable = new Map<string, Map<string, unknown>>();
  readonly #shutdownHooks: Array<() => void | Promise<void>> = [];
  readonly interruptHandlers = new Map<number, () => void>();
  #mie = 0;

  constructor(
    readonly cpu: Cpu,
    readonly fdt: Fdt,
    bootConsole: BootConsole,
    readonly bootargs: string,
    readonly bootReserved: readonly MemoryRegion[],
    readonly entryTime: number,
  ) {
    this.#console = bootConsole;
  }

  readonly #console: BootConsole;

  get console(): Console {
    return this.#console;
  }

  setConsole(sink: Console): void {
    this.#console.attach(sink);
  }

  setInterruptHandler(code: InterruptCode, handler: () => void): void {
    this.interruptHandlers.set(code, handler);
    // An interrupt's bit in `mie` is its cause number (see InterruptEnable).
    this.#mie |= 1 << code;
    this.cpu.setInterruptEnable(this.#mie);
  }

  provide<T>(key: ServiceKey<T>, service: T): void {
    if (this.#services.has(key.id)) throw new KernelError('EBUSY', `two components provide "${key.id}"; compose only one of them`);
    this.#services.set(key.id, service);
  }

  get<T>(key: ServiceKey<T>): T {
    const s = this.#services.get(key.id);
    if (s === undefined) throw new KernelError('ENODEV', `no component provides "${key.id}": compose ${key.providedBy}`);
    return s as T;
  }

  tryGet<T>(key: ServiceKey<T>): T | undefined {
    return this.#services.get(key.id) as T | undefined;
  }

  unclaimed(compat: string): FdtNode[] {
    return this.fdt.findCompatible(compat).filter((n) => isEnabled(n) && !this.#claims.has(n));
  }

  claim(node: FdtNode, driver: string): void {
    const owner = this.#claims.get(node);
    if (owner !== undefined && owner !== driver) throw new KernelError('EBUSY', `${node.path} is already driven by ${owner}`);
    this.#claims.set(node, driver);
  }

  /** Which driver drives each claimed node, for introspection. */
  claimed(): ReadonlyMap<FdtNode, string> {
    return this.#claims;
  }

  addDevice<T>(kind: string, name: string, device: T): void {
    let table = this.#deviceTable.get(kind);
    if (table === undefined) {
      table = new Map();
      this.#deviceTable.set(kind, table);
    }
    if (table.has(name)) throw new KernelError('EEXIST', `a ${kind} device named ${name} already exists`);
    table.set(name, device);
  }

  devices<T>(kind: string): ReadonlyMap<string, T> {
    return (this.#deviceTable.get(kind) ?? new Map()) as ReadonlyMap<string, T>;
  }

  onShutdown(hook: () => void | Promise<void>): void {
    this.#shutdownHooks.push(hook);
  }

  async runShutdownHooks(): Promise<void> {
    for (const hook of this.#shutdownHooks.reverse()) await hook();
  }
}
