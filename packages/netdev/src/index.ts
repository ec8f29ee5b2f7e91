export { type NetBuf, payload, chainLength, prepend, consume, flatten, heapBuf, bufFrom } from './buffer/net-buf.js';
export { type NetDevice, type NetStats, type NetOffloads, NET_DEVICE, emptyStats } from './device/net-device.js';
export { LoopbackDevice } from './loopback/loopback.js';
export { onesSum, foldSum, finishSum } from './checksum/internet.js';
export { FrameChecksum, finishPartialChecksum, verifyFrameChecksum } from './checksum/frame.js';
export { formatMac, parseMac, isMulticastMac } from './address/mac.js';
