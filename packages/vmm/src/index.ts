export { Machine, ExitStatus, type MachineOptions, type MachineResult, type ExecutionMode, type StopReason, type SlotDevice, type SlotEnv } from './machine/machine.js';
export { Layout, TIMEBASE_HZ, DEFAULT_MEM } from './machine/layout.js';
export { buildMachineDtb } from './machine/dtb.js';
export { readImage, imageFromBytes, ImageError, IMAGE_MAGIC, IMAGE_GLOBAL, wrapImage, type Image } from './image/image.js';
export type { MmioDevice } from './bus/device.js';
export { BusError } from './bus/device.js';
export type { IrqLine } from './devices/plic.js';
export { ECMASCRIPT_GLOBALS } from './vcpu/guest-realm.js';
export { prestartVcpu } from './vcpu/spare.js';
