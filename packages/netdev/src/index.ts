export { type NetBuf, payload, chainLength, prepend, consume, flatten, heapBuf, bufFrom } from './buffer/net-buf.js';
export { type NetDevice, type NetStats, type NetOffloads, NET_DEVICE, emptyStats } from './device/net-device.js';
export { LoopbackDevice } from './loopback/loopback.js';
