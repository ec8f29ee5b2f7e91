export { virtioRng } from './driver/component.js';
export { type Entropy, EntropyKey } from './entropy/service.js';
export { VirtioRngDevice, type VirtioRngOptions, MAX_EMPTY_ANSWERS } from './driver/rng-device.js';
export { kernelWait, plainWait, type Waiter } from './driver/kernel-wait.js';
export { REQUEST_QUEUE, ENTROPY_FEATURES, ENTROPY_CONFIG_BYTES } from './spec/entropy.js';
