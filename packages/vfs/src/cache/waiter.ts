import { type KernelContext, KernelError, Services } from '@uk/hal';

/**
 * How a file system waits for a device. With a scheduler, a thread that waits on a device's
 * promise should give the CPU away (`waitFor`); without one, a plain await is all there is.
 */
export type Waiter = <T>(promise: Promise<T>) => Promise<T>;

/** A plain await. */
export const plainWait: Waiter = (p) => p;

/**
 * Waits for a device inside a kernel. From a thread, through the scheduler's `waitFor`, so
 * other threads run meanwhile. Elsewhere — a component's init, or a kernel without a
 * scheduler — a plain await: boot's idle loop takes the device's interrupt.
 */
export function kernelWait(ctx: Pick<KernelContext, 'tryGet'>): Waiter {
  const sched = ctx.tryGet(Services.scheduler);
  return <T>(p: Promise<T>): Promise<T> => {
    if (sched !== undefined) {
      try {
        return sched.waitFor(p);
      } catch (e) {
        if (!(e instanceof KernelError && e.code === 'EPERM')) throw e;
      }
    }
    return p;
  };
}
