import { chosen, parseFdt } from '@uk/fdt';
import { type BootInfo, type Component, type Cpu, type Trap, initLevelName, Services } from '@uk/hal';
import { parseCommandLine } from './cmdline.js';
import { BootConsole } from './console.js';
import { BootContext } from './context.js';
import type { Main } from './kernel.js';
import { describeTrap, formatPanic } from './panic.js';

/** Exit status of a kernel that panicked. */
export const PANIC_STATUS = 1;

/**
 * The entry the machine calls with the boot hart and the device tree's address: parse the
 * tree, run every component's init in level order (timing each), run main, power off with
 * its result. The idle loop is the only place the kernel waits for interrupts.
 */
export async function start(cpu: Cpu, boot: BootInfo, components: readonly Component[], main: Main): Promise<void> {
  const entryTime = cpu.readTime();
  const console = new BootConsole();
  let ctx: BootContext | undefined;
  let phase = 'reading the device tree';
  try {
    const offset = boot.dtb - cpu.ram.base;
    if (!(offset >= 0 && offset < cpu.ram.size)) throw new RangeError(`the device tree address 0x${boot.dtb.toString(16)} is outside RAM`);
    // The blob's header says how long it is; the parser takes that much of the rest of RAM.
    const fdt = parseFdt(cpu.ram.bytes.subarray(offset));
    const bootargs = chosen(fdt).bootargs ?? '';
    const c = new BootContext(cpu, fdt, console, bootargs, [{ base: boot.dtb, size: fdt.totalSize }], entryTime);
    ctx = c;
    cpu.setTrapHandler((trap) => onTrap(c, console, trap));
    // Idle from the start: a component's init may wait for a device (a file system reading
    // its disk), and device completions arrive only through wfi.
    void idle(cpu);

    for (const component of components) {
      phase = `starting ${component.name} (${initLevelName(component.level)})`;
      const t0 = cpu.readTime();
      await component.init(c);
      c.initRecords.push({ name: component.name, level: component.level, ns: cpu.readTime() - t0 });
    }

    phase = 'running main';
    const { argv, env } = parseCommandLine(bootargs);
    const runMain = async (): Promise<number> => {
      c.mainTime = cpu.readTime();
      return exitStatus(await main(argv, env, c));
    };
    const sched = c.tryGet(Services.scheduler);
    const result = sched ? sched.spawn('main', runMain) : runMain();
    const status = await result;
    phase = 'shutting down';
    await c.runShutdownHooks();
    c.get(Services.power).powerOff(status);
  } catch (e) {
    console.write(formatPanic(e, phase));
    const power = ctx?.tryGet(Services.power);
    if (power !== undefined) power.powerOff(PANIC_STATUS);
  }
  // Powered off: the machine stops this hart. Never return: the entry's promise settling
  // would tell the machine the kernel returned.
  await new Promise<never>(() => {});
}

/** The idle loop: sleep until an interrupt, let the woken threads run, repeat. */
async function idle(cpu: Cpu): Promise<void> {
  for (;;) await cpu.wfi();
}

function exitStatus(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v & 0xff;
  return PANIC_STATUS;
}

let inTrap = false;

function onTrap(ctx: BootContext, console: BootConsole, trap: Trap): void {
  if (trap.kind === 'interrupt') {
    const handler = ctx.interruptHandlers.get(trap.code);
    try {
      handler?.();
    } catch (e) {
      console.write(formatPanic(e, `handling interrupt ${trap.code}`));
      ctx.tryGet(Services.power)?.powerOff(PANIC_STATUS);
    }
    return;
  }
  // An exception: report it; the machine stops the hart when the handler returns.
  if (inTrap) return;
  inTrap = true;
  console.write(formatPanic(new Error(describeTrap(trap)), 'a fault'));
  inTrap = false;
}
