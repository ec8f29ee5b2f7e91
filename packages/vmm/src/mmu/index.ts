export { type Access, FaultCause, hexVa, PageFault } from './page-fault.js';
export { Mmu, MmuMode, type MmuOptions, type MmuRam } from './mmu.js';
export { Tlb } from './tlb.js';
