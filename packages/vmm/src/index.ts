export { Machine, ExitStatus, type MachineOptions, type MachineResult, type ExecutionMode, type StopReason, type SlotDevice, type SlotEnv } from './machine/machine.js';
export { Layout, TIMEBASE_HZ, DEFAULT_MEM } from './machine/layout.js';
export { buildMachineDtb, type DtbOptions, type DtbVirtioSlot } from './machine/dtb.js';
export { readImage, imageFromBytes, ImageError, IMAGE_MAGIC, IMAGE_GLOBAL, wrapImage, type Image } from './image/image.js';
export type { MmioDevice } from './bus/device.js';
export { BusError } from './bus/device.js';
export type { IrqLine } from './devices/plic.js';
export { ECMASCRIPT_GLOBALS } from './vcpu/guest-realm.js';
export { VirtioMmioModel, UK_VENDOR_ID, type VirtioModelOptions } from './virtio/mmio/device-model.js';
export type { VirtioBackend, VirtioDeviceHandle } from './virtio/mmio/backend.js';
export { DeviceQueue } from './virtio/queue/device-queue.js';
export { DescriptorChain } from './virtio/queue/chain.js';
export { GuestMemory } from './virtio/queue/guest-memory.js';
export { VirtioFault } from './virtio/queue/fault.js';
export { VirtioBlkBackend, type BlkBackendOptions } from './virtio/blk/blk-backend.js';
export { ImageFile, type IoDone } from './virtio/blk/image-file.js';
export { DiskError, parseDiskSpec, checkDiskImage, type DiskSpec } from './virtio/blk/disk-spec.js';
export { virtioBlkDevice, type VirtioBlkDeviceOptions, type VirtioBlkSlotDevice } from './virtio/blk/slot-device.js';
export { prestartVcpu } from './vcpu/spare.js';
export { Mmu, PageFault, type MmuOptions, type MmuRam, type Access, FaultCause } from './mmu/index.js';
export type { FramePort } from './net/frame-port.js';
export { formatMac, parseMac, defaultMac } from './net/mac.js';
export { NetSpecError, parseNetSpec, type NetSpec, type NetLinkSpec } from './net/spec/net-spec.js';
export { NetSwitch, SwitchPort, type SwitchPortOptions, type SwitchPortStats, type SwitchStats } from './net/switch/learning-switch.js';
export { LinkImpairment, type ImpairmentOptions, type ImpairmentStats } from './net/switch/link-impairment.js';
export { SeededRandom } from './net/switch/seeded-random.js';
export { UdpPort, type UdpPortOptions, type UdpPortStats, type HostPort } from './net/udp/udp-port.js';
export { PcapWriter } from './net/pcap/pcap-writer.js';
export { readPcap, type PcapFile, type PcapRecord } from './net/pcap/pcap-reader.js';
export { PcapError, LINKTYPE_ETHERNET } from './net/pcap/pcap-format.js';
export { CapturePort } from './net/pcap/capture-port.js';
export { VirtioNetBackend, type NetBackendOptions, type NetDeviceStats } from './virtio/net/net-backend.js';
export { virtioNetDevice, netDevicesFromSpecs, type VirtioNetDeviceOptions, type VirtioNetSlotDevice } from './virtio/net/slot-device.js';
// The user-mode network's engine (a whole TCP/IP stack, @uk/net) is @uk/vmm/user-net, loaded
// only by a machine that has a `--net user` NIC; its options and their parser are here.
export {
  type UserNetOptions,
  type UserNetLimits,
  type HostForward,
  DEFAULT_USER_LIMITS,
  USER_KEYS,
  USER_USAGE,
  parseUserItems,
  parseHostForward,
  type Addressing,
  addressing,
  UserNetError,
  type HostResolver,
  systemResolver,
  staticResolver,
} from './net/user/spec/index.js';
