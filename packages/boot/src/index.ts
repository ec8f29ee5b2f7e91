export { kernel, missingServices, type Kernel, type KernelConfig, type Main } from './kernel.js';
export { parseCommandLine, splitWords, quoteWord, type CommandLine } from './cmdline.js';
export { freeMemory } from './memory.js';
export { PANIC_STATUS } from './start.js';
export { formatPanic, describeTrap } from './panic.js';
