import { chosen, type FdtNode } from '@uk/fdt';
import { type Component, Interrupt, InitLevel, KernelError, type KernelContext, serviceKey, Services } from '@uk/hal';
import { ClintTimer } from './clint/timer.js';
import { PlicController } from './plic/controller.js';
import { TestDevicePower } from './power/test-device.js';
import { Ns16550Console } from './uart/ns16550.js';

/** The board's drivers, for components that want more than the generic services. */
export interface VirtPlatform {
  readonly plic: PlicController;
  readonly timer: ClintTimer;
  readonly console: Ns16550Console;
  readonly power: TestDevicePower;
}

export const VirtPlatformKey = serviceKey<VirtPlatform>('plat-virt', 'virt() from @uk/plat-virt');

function first(ctx: KernelContext, compatible: string, what: string): FdtNode {
  const [node] = ctx.unclaimed(compatible);
  if (node === undefined) throw new KernelError('ENODEV', `the device tree has no ${what} (compatible "${compatible}")`);
  ctx.claim(node, 'plat-virt');
  return node;
}

/** The console named by /chosen/stdout-path (options after ':' dropped), else the first UART. */
function consoleNode(ctx: KernelContext): FdtNode {
  const path = chosen(ctx.fdt).stdoutPath?.split(':')[0];
  const node = path === undefined ? undefined : ctx.fdt.node(path);
  if (node !== undefined && ctx.unclaimed('ns16550a').includes(node)) {
    ctx.claim(node, 'plat-virt');
    return node;
  }
  return first(ctx, 'ns16550a', 'UART');
}

/**
 * The platform component for QEMU's riscv64 virt board (and uk's VMM, which models it):
 * console first, so that everything after can print; then interrupts, timer and power.
 */
export function virt(): Component {
  return {
    name: 'plat-virt',
    level: InitLevel.Platform,
    package: '@uk/plat-virt',
    provides: [Services.irq, Services.clock, Services.power, VirtPlatformKey],
    init(ctx) {
      const console = new Ns16550Console(ctx.cpu, consoleNode(ctx));
      ctx.setConsole(console);
      const plic = new PlicController(ctx.cpu.mmio, ctx.fdt, first(ctx, 'riscv,plic0', 'interrupt controller'));
      const timer = new ClintTimer(ctx.cpu, ctx.fdt, first(ctx, 'riscv,clint0', 'CLINT timer'));
      const power = new TestDevicePower(ctx.cpu, first(ctx, 'sifive,test0', 'power-off device'));
      ctx.setInterruptHandler(Interrupt.MachineExternal, () => plic.dispatch());
      ctx.setInterruptHandler(Interrupt.MachineTimer, () => timer.expire());
      ctx.provide(Services.irq, plic);
      ctx.provide(Services.clock, timer);
      ctx.provide(Services.power, power);
      ctx.provide(VirtPlatformKey, { plic, timer, console, power });
    },
  };
}
