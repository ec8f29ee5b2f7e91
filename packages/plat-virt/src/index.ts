export { virt, virtBase, virtIrq, virtClock, VirtPlatformKey, type VirtPlatform } from './board/virt.js';
export { PlicController } from './plic/controller.js';
export { ClintTimer } from './clint/timer.js';
export { Ns16550Console } from './uart/ns16550.js';
export { TestDevicePower } from './power/test-device.js';
