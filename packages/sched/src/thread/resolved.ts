/** One settled promise, shared: what a call returns when it does not need to wait. */
export const RESOLVED: Promise<void> = Promise.resolve();
