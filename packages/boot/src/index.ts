export { kernel, missingServices, type Kernel, type KernelConfig, type Main } from './kernel.js';
export { parseCommandLine, splitWords, quoteWord, type CommandLine } from './cmdline.js';
export { PANIC_STATUS } from './start.js';
export { formatPanic, describeTrap } from './panic.js';
export { DEFAULT_BOARD, virtBase, virtIrq, virtClock } from './board.js';
