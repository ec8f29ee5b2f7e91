export { virtioBlk } from './component.js';
export { VirtioBlkDevice, type VirtioBlkOptions, BLK_DRIVER_FEATURES } from './device/blk-device.js';
export { readBlkConfig, type BlkDeviceConfig } from './device/config.js';
