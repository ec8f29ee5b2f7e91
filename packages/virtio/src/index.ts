export { RamWindow } from './memory/ram-window.js';
export { MmioTransport } from './mmio/transport.js';
export { SplitQueue, type SplitQueueOptions } from './queue/split-queue.js';
export { IndirectPool } from './queue/indirect-pool.js';
export { RequestSlots } from './queue/request-slots.js';
export { VirtioMmioDevice, type VirtioEnv, type VirtioInterruptHandlers, TRANSPORT_FEATURES } from './device/virtio-device.js';
export { virtioDriver, virtioSlots, type VirtioDriverSpec, type VirtioSlot, VIRTIO_MMIO_COMPATIBLE } from './driver/virtio-driver.js';
