export { type DecodedPte, joinWords, type PagePerms, type PageTableFormat, PteKind, splitWords } from './format/format.js';
export { decodeSatp, encodeSatp, RiscvPte, type Satp, SatpMode, sv39, sv48 } from './format/riscv.js';
export { X86Pte, x86_64 } from './format/x86-64.js';
export { formatVa, vaIndex } from './address/virtual-address.js';
export type { PhysicalMemory } from './table/table-memory.js';
export {
  AddressSpace,
  type AddressSpaceOptions,
  type MapOptions,
  type Mapping,
  type TlbControl,
  type Translation,
} from './space/address-space.js';
export { type DeviceRegion, type DeviceTreeNode, deviceRegions } from './boot/device-regions.js';
export { buildKernelSpace, type KernelSpaceLayout } from './boot/kernel-space.js';
export { AddressSpaceKey, type PagingOptions, paging } from './boot/paging-component.js';
