import { type Component, type ImageEntry, InitLevel, type KernelContext, type ServiceKey } from '@uk/hal';
import { start } from './start.js';

/** The application: argv and env come from the kernel command line; its result is the exit status. */
export type Main = (argv: string[], env: Record<string, string>, ctx: KernelContext) => number | undefined | Promise<number | undefined | void> | void;

export interface KernelConfig {
  /**
   * The board's drivers, e.g. `virt()` from @uk/plat-virt. Left out, `uk build` composes the
   * board's drivers the other components require (see DEFAULT_BOARD).
   */
  platform?: Component;
  /** A memory allocator: buddy(), tlsf() or region() from @uk/alloc. */
  alloc?: Component;
  /** Page tables: paging() from @uk/paging. Without it the MMU stays off. */
  paging?: Component;
  /** The scheduler: coop() from @uk/sched. Without it, main runs alone. */
  sched?: Component;
  /** Device drivers, each matched to device-tree nodes. */
  drivers?: Component[];
  /** File systems by mount point, e.g. { '/': ramfs(), '/data': fat('vda') }. */
  fs?: Record<string, Component> | Component[];
  /** The network stack. */
  net?: Component;
  /** Anything else, at the init level each declares. */
  components?: Component[];
  main: Main;
}

/** A composed kernel: what an image's default export is. */
export interface Kernel extends ImageEntry {
  /** Every component, in init order. */
  readonly components: readonly Component[];
  /** Whether some component sits at the platform level (the app composed its board). */
  readonly hasPlatform: boolean;
  /** This kernel with more components — how `uk build` adds the board's drivers. */
  with(components: readonly Component[]): Kernel;
}

/**
 * Composes a kernel from components, as Unikraft's build links micro-libraries: what is not
 * listed here is not in the image.
 */
export function kernel(config: KernelConfig): Kernel {
  const listed: Component[] = [
    ...(config.platform ? [config.platform] : []),
    ...(config.alloc ? [config.alloc] : []),
    ...(config.paging ? [config.paging] : []),
    ...(config.sched ? [config.sched] : []),
    ...(config.drivers ?? []),
    ...(config.fs ? (Array.isArray(config.fs) ? config.fs : Object.entries(config.fs).map(([at, c]) => ({ ...c, mountPoint: at }))) : []),
    ...(config.net ? [config.net] : []),
    ...(config.components ?? []),
  ];
  return composed(listed, config.main);
}

function composed(listed: readonly Component[], main: Main): Kernel {
  // A stable sort: within a level, the order the application wrote.
  const components = listed.map((c, i) => ({ c, i })).sort((a, b) => a.c.level - b.c.level || a.i - b.i).map((x) => x.c);
  return {
    components,
    hasPlatform: components.some((c) => c.level === InitLevel.Platform),
    with: (more) => composed([...more, ...listed], main),
    start: (cpu, boot) => start(cpu, boot, components, main),
  };
}

/** Services some component requires and none provides: what `uk build` reports. */
export function missingServices(components: readonly Component[]): Array<{ component: string; key: ServiceKey<unknown> }> {
  const provided = new Set<string>();
  for (const c of components) for (const k of c.provides ?? []) provided.add(k.id);
  const missing: Array<{ component: string; key: ServiceKey<unknown> }> = [];
  for (const c of components) for (const k of c.requires ?? []) if (!provided.has(k.id)) missing.push({ component: c.name, key: k });
  return missing;
}
