import { chosen, type FdtNode } from '@uk/fdt';
import { type Component, Interrupt, InitLevel, KernelError, type KernelContext, type ServiceKey, serviceKey, Services } from '@uk/hal';
import { ClintTimer } from '../clint/timer.js';
import { PlicController } from '../plic/controller.js';
import { TestDevicePower } from '../power/test-device.js';
import { Ns16550Console } from '../uart/ns16550.js';

/** The board's drivers, for components that want more than the generic services. */
export interface VirtPlatform {
  readonly console: Ns16550Console;
  readonly power: TestDevicePower;
  /** Set when the interrupt controller is composed (virtIrq() or virt()). */
  plic?: PlicController;
  /** Set when the timer is composed (virtClock() or virt()). */
  timer?: ClintTimer;
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

function initBase(ctx: KernelContext): { console: Ns16550Console; power: TestDevicePower } {
  const console = new Ns16550Console(ctx.cpu, consoleNode(ctx));
  ctx.setConsole(console);
  const power = new TestDevicePower(ctx.cpu, first(ctx, 'sifive,test0', 'power-off device'));
  ctx.provide(Services.power, power);
  return { console, power };
}

function initIrq(ctx: KernelContext): PlicController {
  const plic = new PlicController(ctx.cpu.mmio, ctx.fdt, first(ctx, 'riscv,plic0', 'interrupt controller'));
  ctx.setInterruptHandler(Interrupt.MachineExternal, () => plic.dispatch());
  ctx.provide(Services.irq, plic);
  return plic;
}

function initClock(ctx: KernelContext): ClintTimer {
  const timer = new ClintTimer(ctx.cpu, ctx.fdt, first(ctx, 'riscv,clint0', 'CLINT timer'));
  ctx.setInterruptHandler(Interrupt.MachineTimer, () => timer.expire());
  ctx.provide(Services.clock, timer);
  return timer;
}

/**
 * The whole board, as one platform component: console first (so that everything after can
 * print), then power, interrupts and the timer.
 */
export function virt(): Component {
  return {
    name: 'plat-virt',
    level: InitLevel.Platform,
    package: '@uk/plat-virt',
    provides: [Services.irq, Services.clock, Services.power, VirtPlatformKey],
    init(ctx) {
      const base = initBase(ctx);
      const plic = initIrq(ctx);
      const timer = initClock(ctx);
      ctx.provide(VirtPlatformKey, { ...base, plic, timer });
    },
  };
}

/**
 * The board's console and power-off only: a kernel that needs neither interrupts nor a timer
 * (one that runs main to completion) composes this and links no PLIC or CLINT driver.
 */
export function virtBase(): Component {
  return {
    name: 'plat-virt',
    level: InitLevel.Platform,
    package: '@uk/plat-virt',
    provides: [Services.power, VirtPlatformKey],
    init(ctx) {
      ctx.provide(VirtPlatformKey, initBase(ctx));
    },
  };
}

/** One driver of the board as its own component, recorded in VirtPlatform when the base is there. */
function boardPiece(name: string, key: ServiceKey<unknown>, init: (ctx: KernelContext, board: VirtPlatform | undefined) => void): Component {
  return { name, level: InitLevel.Platform, package: '@uk/plat-virt', provides: [key], init: (ctx) => init(ctx, ctx.tryGet(VirtPlatformKey)) };
}

/** The PLIC, alone: `Services.irq`. Composed after virtBase(). */
export function virtIrq(): Component {
  return boardPiece('plat-virt-irq', Services.irq, (ctx, board) => {
    const plic = initIrq(ctx);
    if (board !== undefined) board.plic = plic;
  });
}

/** The CLINT timer, alone: `Services.clock`. Composed after virtBase(). */
export function virtClock(): Component {
  return boardPiece('plat-virt-clock', Services.clock, (ctx, board) => {
    const timer = initClock(ctx);
    if (board !== undefined) board.timer = timer;
  });
}
