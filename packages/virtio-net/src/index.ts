export { virtioNet } from './component.js';
export { VirtioNetDevice, type VirtioNetOptions, type VirtioNetDriverStats } from './device/net-device.js';
export { NET_DRIVER_FEATURES, type NetFeatureChoice } from './device/features.js';
export { readNetConfig, type NetDeviceConfig } from './device/config.js';
export { ReceiveQueue, RxBuf } from './rx/receive-queue.js';
export { TransmitQueue, TxBuf, Submit } from './tx/transmit-queue.js';
