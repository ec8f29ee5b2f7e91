import { type Access, FaultCause, PageFault } from './page-fault.js';
import { Tlb } from './tlb.js';

/** Guest RAM as the page-table walker reads it. */
export interface MmuRam {
  readonly base: number;
  readonly size: number;
  readonly bytes: Uint8Array;
}

export interface MmuOptions {
  /** Level-0 TLB entries, a power of two; 0 turns the TLB off (every access walks). Default 256. */
  readonly tlbEntries?: number;
}

/** `satp.MODE` values this MMU implements; writes of any other mode are ignored (WARL). */
export const MmuMode = { Bare: 0, Sv39: 8, Sv48: 9 } as const;

// PTE bits (privileged specification, "Sv32"/"Sv39" page table entry).
const V = 1 << 0;
const R = 1 << 1;
const W = 1 << 2;
const X = 1 << 3;
const U = 1 << 4;
const A = 1 << 6;
const D = 1 << 7;
/** Bits 63–54 in the high word: N, PBMT and reserved. This MMU has neither Svnapot nor Svpbmt. */
const HI_RESERVED = 0xffc0_0000;

const PAGE_FAULT: readonly FaultCause[] = [FaultCause.LoadPageFault, FaultCause.StorePageFault, FaultCause.InstructionPageFault];
const ACCESS_FAULT: readonly FaultCause[] = [FaultCause.LoadAccessFault, FaultCause.StoreAccessFault, FaultCause.InstructionAccessFault];
const ACCESS_NAME: readonly Access[] = ['read', 'write', 'execute'];
/** Bytes one entry spans at each level. */
const SPAN = [2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39];

/**
 * The hart's MMU: the Sv39/Sv48 translation algorithm of the RISC-V privileged specification
 * ("Virtual Address Translation Process"), walking the page tables the kernel wrote into
 * guest RAM, with a TLB in front of it.
 *
 * - A/D bits follow **Svade**: an access to a page whose A bit is clear, or a store to a page
 *   whose D bit is clear, is a page fault; the MMU never writes to the tables. The kernel sets
 *   A (and D on writable pages) when it maps.
 * - Svnapot and Svpbmt are not implemented: bits 63–54 of a PTE must be zero.
 * - Writing `satp` empties the TLB (an implementation may drop cached translations at any
 *   time, so software that issues `sfence.vma` as required sees no difference). `flush()`
 *   is `sfence.vma`; without it the TLB keeps serving translations the tables no longer hold.
 * - The effective privilege is S by default (the kernel's); `privilege`, `sum` and `mxr`
 *   model the U mode and `mstatus.SUM`/`MXR`.
 */
export class Mmu {
  private readonly view: DataView;
  private readonly ramBase: number;
  private readonly ramEnd: number;
  private readonly tlb: Tlb;
  // The 4 KiB level of the TLB, held directly: the lookup most accesses end with.
  private readonly tag0: Float64Array;
  private readonly base0: Float64Array;
  private readonly flags0: Uint8Array;
  private readonly mask0: number;
  /** Allowed accesses: index `code * 256 + PTE flag byte`, 1 if the leaf permits the access. */
  private readonly allowed = new Uint8Array(3 * 256);

  private satpValue = 0n;
  /** Walk depth: 0 (Bare), 3 (Sv39) or 4 (Sv48). */
  private levels = 0;
  private rootPpn = 0;
  /** 2^(VA bits - 1): canonical addresses lie in [-half, half). */
  private half = 0;
  private span = 0;
  private priv: 'supervisor' | 'user' = 'supervisor';
  private sumBit = false;
  private mxrBit = false;

  /** Translations answered by the TLB. */
  tlbHits = 0;
  /** Full walks (TLB misses and refused TLB hits). */
  walks = 0;

  constructor(ram: MmuRam, options: MmuOptions = {}) {
    this.view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.bytes.byteLength);
    this.ramBase = ram.base;
    this.ramEnd = ram.base + Math.min(ram.size, ram.bytes.byteLength);
    this.tlb = new Tlb(options.tlbEntries ?? 256);
    this.tag0 = this.tlb.tags[0];
    this.base0 = this.tlb.bases[0];
    this.flags0 = this.tlb.flags[0];
    this.mask0 = this.tlb.masks[0];
    this.rebuildPermissions();
  }

  /** Writes `satp`. A MODE other than Bare, Sv39 or Sv48 leaves the register as it was. */
  setSatp(satp: bigint): void {
    const value = BigInt.asUintN(64, satp);
    const mode = Number(value >> 60n);
    if (mode !== MmuMode.Bare && mode !== MmuMode.Sv39 && mode !== MmuMode.Sv48) return;
    this.satpValue = value;
    this.levels = mode === MmuMode.Bare ? 0 : mode === MmuMode.Sv39 ? 3 : 4;
    this.rootPpn = Number(value & 0xfff_ffff_ffffn);
    this.half = this.levels === 0 ? 0 : 2 ** (11 + 9 * this.levels);
    this.span = 2 * this.half;
    this.tlb.clear();
  }

  get satp(): bigint {
    return this.satpValue;
  }

  /** The translation scheme in force. */
  get mode(): 'bare' | 'sv39' | 'sv48' {
    return this.levels === 0 ? 'bare' : this.levels === 3 ? 'sv39' : 'sv48';
  }

  /** The privilege mode accesses are made in. */
  get privilege(): 'supervisor' | 'user' {
    return this.priv;
  }
  set privilege(p: 'supervisor' | 'user') {
    this.priv = p;
    this.rebuildPermissions();
  }

  /** `mstatus.SUM`: supervisor loads and stores may touch U pages. */
  get sum(): boolean {
    return this.sumBit;
  }
  set sum(on: boolean) {
    this.sumBit = on;
    this.rebuildPermissions();
  }

  /** `mstatus.MXR`: loads from execute-only pages succeed. */
  get mxr(): boolean {
    return this.mxrBit;
  }
  set mxr(on: boolean) {
    this.mxrBit = on;
    this.rebuildPermissions();
  }

  /** `sfence.vma`: drops every cached translation, or those covering `va`. */
  flush(va?: number): void {
    if (va === undefined) {
      this.tlb.clear();
      return;
    }
    if (this.levels === 0 || !(va >= -this.half && va < this.half)) return;
    this.tlb.invalidate(va < 0 ? va + this.span : va);
  }

  /**
   * The physical address of `va` for this access, or a thrown {@link PageFault}. Upper-half
   * virtual addresses are given as negative numbers (their two's-complement value).
   */
  translate(va: number, access: Access): number {
    if (this.levels === 0) return va;
    return this.translateCode(va, access === 'read' ? 0 : access === 'write' ? 1 : 2);
  }

  /** {@link translate} with the access as 0 (read), 1 (write) or 2 (execute). */
  translateCode(va: number, code: number): number {
    if (this.levels === 0) return va;
    if (!(va >= -this.half && va < this.half)) {
      throw this.pageFault(va, code, `not a canonical ${this.levels === 3 ? 'Sv39' : 'Sv48'} address: bits 63–${9 * this.levels + 12} must all equal bit ${9 * this.levels + 11}`);
    }
    const u = va < 0 ? va + this.span : va;
    const vpn = Math.floor(u / 4096);
    const slot = vpn & this.mask0;
    if (this.tag0[slot] === vpn && this.allowed[(code << 8) | this.flags0[slot]] === 1) {
      this.tlbHits++;
      return this.base0[slot] + (u - vpn * 4096);
    }
    const tlb = this.tlb;
    if (tlb.enabled) {
      for (let level = 1; level < this.levels; level++) {
        const size = SPAN[level];
        const big = Math.floor(u / size);
        const s = big & tlb.masks[level];
        if (tlb.tags[level][s] === big && this.allowed[(code << 8) | tlb.flags[level][s]] === 1) {
          this.tlbHits++;
          return tlb.bases[level][s] + (u - big * size);
        }
      }
    }
    return this.walk(va, u, code);
  }

  /** The specification's algorithm, step by step; fills the TLB on success. */
  private walk(va: number, u: number, code: number): number {
    this.walks++;
    const view = this.view;
    let a = this.rootPpn * 4096; // step 1
    for (let i = this.levels - 1; i >= 0; i--) {
      // Step 2: read the PTE; outside RAM is an access fault, and nothing is read there.
      const pteAddr = a + (Math.floor(u / SPAN[i]) % 512) * 8;
      if (pteAddr < this.ramBase || pteAddr + 8 > this.ramEnd) {
        throw new PageFault(va, ACCESS_NAME[code], ACCESS_FAULT[code], `the level-${i} page-table entry at 0x${pteAddr.toString(16)} is outside RAM`);
      }
      const off = pteAddr - this.ramBase;
      const lo = view.getUint32(off, true);
      const hi = view.getUint32(off + 4, true);
      // Step 3: invalid, reserved encoding, reserved bits.
      if ((lo & V) === 0) throw this.pageFault(va, code, `not mapped (the level-${i} entry at 0x${pteAddr.toString(16)} is not valid)`);
      if ((lo & (R | W)) === W) throw this.pageFault(va, code, `the level-${i} entry at 0x${pteAddr.toString(16)} has W without R, a reserved encoding`);
      if ((hi & HI_RESERVED) !== 0) throw this.pageFault(va, code, `the level-${i} entry at 0x${pteAddr.toString(16)} has reserved bits 63–54 set`);
      const ppn = (lo >>> 10) + (hi & 0x3f_ffff) * 0x40_0000;
      // Step 4: a pointer to the next level.
      if ((lo & (R | X)) === 0) {
        if ((lo & (D | A | U)) !== 0) throw this.pageFault(va, code, `the non-leaf level-${i} entry at 0x${pteAddr.toString(16)} has D, A or U set (reserved)`);
        if (i === 0) throw this.pageFault(va, code, `the level-0 entry at 0x${pteAddr.toString(16)} points to another table`);
        a = ppn * 4096;
        continue;
      }
      // Step 5: a leaf; a superpage's PPN must be aligned to its size.
      if (i > 0 && ppn % 512 ** i !== 0) throw this.pageFault(va, code, `misaligned superpage: the level-${i} leaf at 0x${pteAddr.toString(16)} has PPN 0x${ppn.toString(16)}`);
      // Step 6: the U bit against the privilege mode, SUM.
      if (this.priv === 'user') {
        if ((lo & U) === 0) throw this.pageFault(va, code, 'user mode cannot access a supervisor page (U = 0)');
      } else if ((lo & U) !== 0) {
        if (code === 2) throw this.pageFault(va, code, 'supervisor mode never executes a user page (U = 1)');
        if (!this.sumBit) throw this.pageFault(va, code, 'supervisor access to a user page (U = 1) with SUM = 0');
      }
      // Step 8: R, W, X (and MXR).
      if (code === 0 && (lo & R) === 0 && !(this.mxrBit && (lo & X) !== 0)) throw this.pageFault(va, code, 'the page is not readable');
      if (code === 1 && (lo & W) === 0) throw this.pageFault(va, code, 'the page is not writable');
      if (code === 2 && (lo & X) === 0) throw this.pageFault(va, code, 'the page is not executable');
      // Step 9, Svade: A and D are the kernel's to set.
      if ((lo & A) === 0) throw this.pageFault(va, code, 'the accessed bit (A) is clear; this MMU implements Svade and does not set it');
      if (code === 1 && (lo & D) === 0) throw this.pageFault(va, code, 'store to a page whose dirty bit (D) is clear; this MMU implements Svade and does not set it');
      // Step 10: the page's base plus the untranslated low bits.
      const base = ppn * 4096;
      const vpn = Math.floor(u / SPAN[i]);
      this.tlb.fill(i, vpn, base, lo & 0xff);
      return base + (u - vpn * SPAN[i]);
    }
    throw this.pageFault(va, code, 'the walk found no leaf');
  }

  private pageFault(va: number, code: number, reason: string): PageFault {
    return new PageFault(va, ACCESS_NAME[code], PAGE_FAULT[code], reason);
  }

  /** Precomputes, for every flag byte and access, whether a TLB hit may answer it. */
  private rebuildPermissions(): void {
    for (let code = 0; code < 3; code++) {
      for (let f = 0; f < 256; f++) {
        let ok = (f & V) !== 0 && (f & A) !== 0;
        if (this.priv === 'user') ok &&= (f & U) !== 0;
        else if ((f & U) !== 0) ok &&= code !== 2 && this.sumBit;
        if (code === 0) ok &&= (f & R) !== 0 || (this.mxrBit && (f & X) !== 0);
        else if (code === 1) ok &&= (f & W) !== 0 && (f & D) !== 0;
        else ok &&= (f & X) !== 0;
        this.allowed[code * 256 + f] = ok ? 1 : 0;
      }
    }
  }

  /** For messages: the current `satp` as MODE/ASID/PPN. */
  describe(): string {
    const asid = Number((this.satpValue >> 44n) & 0xffffn);
    return `satp mode=${this.mode} asid=${asid} root=0x${(this.rootPpn * 4096).toString(16)}`;
  }
}
