// What the tests use from the package and from @uk/hal, in one place.
export * from '../../src/index.js';
export { isKernelError as isKernelErrorLike, KernelError } from '@uk/hal';
