import { isKernelError, type KernelContext, Services } from '@uk/hal';

/** How a caller waits for the device's answer. */
export type Waiter = <T>(promise: Promise<T>) => Promise<T>;

/** A plain await: boot's idle loop takes the device's interrupt meanwhile. */
export const plainWait: Waiter = (p) => p;

/**
 * Waits the way the kernel wants. With a scheduler, a thread that awaits a device's promise
 * would keep the CPU, so it blocks through `waitFor` and other threads run meanwhile; outside
 * any thread (a component's init) `waitFor` refuses with EPERM, and a plain await it is.
 */
export function kernelWait(ctx: Pick<KernelContext, 'tryGet'>): Waiter {
  const sched = ctx.tryGet(Services.scheduler);
  if (sched === undefined) return plainWait;
  return <T>(p: Promise<T>): Promise<T> => {
    try {
      return sched.waitFor(p);
    } catch (e) {
      if (isKernelError(e, 'EPERM')) return p;
      throw e;
    }
  };
}
