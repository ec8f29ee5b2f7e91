/**
 * x86-64 4-level paging (IA-32e paging, Intel SDM vol. 3A §4.5): PML4 → PDPT → PD → PT.
 *
 *   63 | 62–59 | 58–52   | 51–12         | 11–9 | 8 | 7      | 6 | 5 | 4   | 3   | 2   | 1  | 0
 *   XD | PK    | ignored | frame address | AVL  | G | PS/PAT | D | A | PCD | PWT | U/S | RW | P
 *
 * PS (bit 7) marks a 1 GiB leaf in a PDPT entry and a 2 MiB leaf in a PD entry; it is
 * reserved in a PML4 entry, and in a 4 KiB PT entry bit 7 is PAT instead. In a large-page
 * entry bit 12 is PAT, and the address bits below the page size (13–20 for 2 MiB, 13–29 for
 * 1 GiB) are reserved. There is no read bit: a present page is readable. Execute-disable
 * (bit 63) assumes EFER.NXE = 1. MAXPHYADDR is taken as 52, so no address bit is reserved.
 */
import { high32, type PagePerms, type PageTableFormat, PteKind, withBigIntCodec } from './format.js';

/** Entry bits; `XD` is bit 63, given as its bit in the high word. */
export const X86Pte = {
  P: 1 << 0,
  RW: 1 << 1,
  US: 1 << 2,
  PWT: 1 << 3,
  PCD: 1 << 4,
  A: 1 << 5,
  D: 1 << 6,
  /** Page size in PDPT/PD entries; PAT in 4 KiB entries. */
  PS: 1 << 7,
  G: 1 << 8,
  /** PAT of a 2 MiB or 1 GiB leaf. */
  PAT_LARGE: 1 << 12,
  /** Bit 63, execute-disable, as it sits in the high word (bit 31). */
  XD_HI: 0x8000_0000,
  /** The frame address occupies bits 51–12. */
  ADDRESS_SHIFT: 12,
} as const;

const { P, RW, US, A, D, PS, G, XD_HI } = X86Pte;
const ADDR_LO_4K = 0xffff_f000;
const ADDR_LO_LARGE = 0xffff_e000; // bit 12 is PAT in large pages
const ADDR_HI = 0x000f_ffff; // entry bits 51–32
/** Reserved address bits of a large leaf: 20–13 (2 MiB) and 29–13 (1 GiB). */
const LARGE_RESERVED = [0, 0x001f_e000, 0x3fff_e000];

function reservedReason(lo: number, _hi: number, level: number): string {
  if (level === 3) return 'PS is reserved in a PML4 entry (there are no 512 GiB pages)';
  if ((lo & LARGE_RESERVED[level]) !== 0) return `reserved address bits are set in a ${level === 1 ? '2 MiB' : '1 GiB'} page entry (misaligned frame)`;
  return 'reserved encoding';
}

/** x86-64 with 4-level paging: 48-bit virtual addresses, 4 KiB / 2 MiB / 1 GiB pages. */
export const x86_64: PageTableFormat = /* @__PURE__ */ withBigIntCodec(
  {
    name: 'x86_64' as const,
    arch: 'x86' as const,
    levels: 4,
    vaBits: 48,
    paBits: 52,
    pageSizes: [4096, 2 ** 21, 2 ** 30],
    leafStep: 4096,

    kind(lo: number, _hi: number, level: number): PteKind {
      if ((lo & P) === 0) return PteKind.Empty;
      if (level === 0) return PteKind.Leaf;
      if ((lo & PS) === 0) return PteKind.Table;
      if (level === 3 || (lo & LARGE_RESERVED[level]) !== 0) return PteKind.Reserved;
      return PteKind.Leaf;
    },

    address(lo: number, hi: number, level: number): number {
      const mask = level > 0 && (lo & PS) !== 0 ? ADDR_LO_LARGE : ADDR_LO_4K;
      return ((lo & mask) >>> 0) + (hi & ADDR_HI) * 0x1_0000_0000;
    },

    perms(lo: number, hi: number): Required<PagePerms> {
      return {
        read: true,
        write: (lo & RW) !== 0,
        execute: (hi & XD_HI) === 0,
        user: (lo & US) !== 0,
        global: (lo & G) !== 0,
      };
    },

    unencodable(p: PagePerms): string | undefined {
      if (!p.read) return 'x86-64 has no read permission bit: a present page is always readable';
      return undefined;
    },

    leafLo(pa: number, p: PagePerms, level: number): number {
      let f = P | A;
      if (p.write) f |= RW | D;
      if (p.user) f |= US;
      if (p.global) f |= G;
      if (level > 0) f |= PS;
      return (f | (pa & ADDR_LO_4K)) >>> 0;
    },

    leafHi(pa: number, p: PagePerms): number {
      return ((high32(pa) & ADDR_HI) | (p.execute ? 0 : XD_HI)) >>> 0;
    },

    // Pointers allow everything: x86 combines RW, U/S and XD of every level, so the leaf decides.
    tableLo(pa: number): number {
      return (P | RW | US | (pa & ADDR_LO_4K)) >>> 0;
    },

    tableHi(pa: number): number {
      return high32(pa) & ADDR_HI;
    },

    /** CR3: the PML4's address in bits 51–12, the PCID in bits 11–0 (with CR4.PCIDE). */
    rootRegister(rootPa: number, asid = 0): bigint {
      return BigInt(rootPa) | BigInt(asid & 0xfff);
    },
  },
  { accessed: A, dirty: D, reservedReason },
);
