/**
 * RISC-V Sv39 and Sv48 (privileged specification, "Sv39: Page-Based 39-bit Virtual-Memory
 * System" and "Sv48"). Both use the same 64-bit entry:
 *
 *   63 | 62–61 | 60–54    | 53–10 | 9–8 | 7 | 6 | 5 | 4 | 3 | 2 | 1 | 0
 *   N  | PBMT  | reserved | PPN   | RSW | D | A | G | U | X | W | R | V
 *
 * N (Svnapot), PBMT (Svpbmt) and bits 60–54 must be zero here: the machine implements
 * neither extension, so a set bit is a page fault. PPN is 44 bits (PPN[2] = bits 53–28 for
 * Sv39; PPN[3] = 53–37 and PPN[2] = 36–28 for Sv48; PPN[1] = 27–19 and PPN[0] = 18–10 for
 * both) — one contiguous field, so one codec serves both.
 */
import { type PagePerms, type PageTableFormat, PteKind, withBigIntCodec } from './format.js';

/** Entry bits (bit 0 – 9). */
export const RiscvPte = {
  V: 1 << 0,
  R: 1 << 1,
  W: 1 << 2,
  X: 1 << 3,
  U: 1 << 4,
  G: 1 << 5,
  A: 1 << 6,
  D: 1 << 7,
  /** Two bits reserved for supervisor software; the hardware ignores them. */
  RSW_SHIFT: 8,
  /** PPN starts at bit 10 and is 44 bits wide. */
  PPN_SHIFT: 10,
} as const;

/** `satp.MODE` values (RV64). */
export const SatpMode = { Bare: 0, Sv39: 8, Sv48: 9, Sv57: 10 } as const;
export type SatpMode = (typeof SatpMode)[keyof typeof SatpMode];

export interface Satp {
  readonly mode: number;
  /** Address-space identifier, 16 bits. */
  readonly asid: number;
  /** Physical page number of the root table, 44 bits. */
  readonly ppn: number;
}

/** RV64 `satp`: MODE in bits 63–60, ASID in 59–44, PPN in 43–0. */
export function encodeSatp(s: Satp): bigint {
  return (BigInt(s.mode & 0xf) << 60n) | (BigInt(s.asid & 0xffff) << 44n) | (BigInt(s.ppn) & 0xfff_ffff_ffffn);
}

export function decodeSatp(satp: bigint): Satp & { readonly rootAddress: number } {
  const ppn = Number(satp & 0xfff_ffff_ffffn);
  return {
    mode: Number((satp >> 60n) & 0xfn),
    asid: Number((satp >> 44n) & 0xffffn),
    ppn,
    rootAddress: ppn * 4096,
  };
}

const { V, R, W, X, U, G, A, D } = RiscvPte;
const PPN_LO_BITS = 22; // PPN bits held in the low word (entry bits 31–10)
const PPN_LO_MASK = (1 << PPN_LO_BITS) - 1;
const PPN_HI_MASK = 0x3f_ffff; // entry bits 53–32
const HI_RESERVED = 0xffc0_0000; // entry bits 63–54 in the high word

function ppnOf(lo: number, hi: number): number {
  return (lo >>> 10) + (hi & PPN_HI_MASK) * 0x40_0000;
}

function reservedReason(lo: number, hi: number, level: number): string {
  if ((hi & HI_RESERVED) !== 0) return 'bits 63–54 are set (reserved: no Svnapot, Svpbmt or later extension)';
  if ((lo & (R | W)) === W) return 'W without R is a reserved encoding';
  if ((lo & (R | X)) === 0) {
    if (level === 0) return 'a level-0 entry cannot point to another table';
    return 'D, A and U are reserved in a non-leaf entry';
  }
  return `misaligned superpage: the PPN of a level-${level} leaf must be a multiple of ${512 ** level}`;
}

function riscv(name: 'sv39' | 'sv48', levels: 3 | 4, mode: SatpMode): PageTableFormat {
  const pageSizes = levels === 3 ? [4096, 2 ** 21, 2 ** 30] : [4096, 2 ** 21, 2 ** 30, 2 ** 39];
  return withBigIntCodec(
    {
      name,
      arch: 'riscv' as const,
      levels,
      vaBits: 12 + 9 * levels,
      paBits: 56,
      pageSizes,
      leafStep: 1 << 10,

      kind(lo: number, hi: number, level: number): PteKind {
        if ((lo & V) === 0) return PteKind.Empty;
        if ((hi & HI_RESERVED) !== 0 || (lo & (R | W)) === W) return PteKind.Reserved;
        if ((lo & (R | X)) === 0) {
          return level === 0 || (lo & (D | A | U)) !== 0 ? PteKind.Reserved : PteKind.Table;
        }
        if (level > 0 && ppnOf(lo, hi) % 512 ** level !== 0) return PteKind.Reserved;
        return PteKind.Leaf;
      },

      address(lo: number, hi: number): number {
        return ppnOf(lo, hi) * 4096;
      },

      perms(lo: number): Required<PagePerms> {
        return {
          read: (lo & R) !== 0,
          write: (lo & W) !== 0,
          execute: (lo & X) !== 0,
          user: (lo & U) !== 0,
          global: (lo & G) !== 0,
        };
      },

      unencodable(p: PagePerms): string | undefined {
        if (!p.read && !p.write && !p.execute) return 'a page must allow at least one of read, write or execute';
        if (p.write && !p.read) return 'write without read is a reserved encoding on RISC-V';
        return undefined;
      },

      leafLo(pa: number, p: PagePerms): number {
        let f = V | A;
        if (p.read) f |= R;
        if (p.write) f |= W | D;
        if (p.execute) f |= X;
        if (p.user) f |= U;
        if (p.global) f |= G;
        return (f | (((pa / 4096) & PPN_LO_MASK) << 10)) >>> 0;
      },

      leafHi(pa: number): number {
        return Math.floor(pa / 2 ** 34);
      },

      // A pointer carries V only: D, A and U are reserved in non-leaf entries, and G on a
      // pointer would declare everything beneath it global.
      tableLo(pa: number): number {
        return (V | (((pa / 4096) & PPN_LO_MASK) << 10)) >>> 0;
      },

      tableHi(pa: number): number {
        return Math.floor(pa / 2 ** 34);
      },

      rootRegister(rootPa: number, asid = 0): bigint {
        return encodeSatp({ mode, asid, ppn: rootPa / 4096 });
      },
    },
    { accessed: A, dirty: D, reservedReason },
  );
}

/** RISC-V Sv39: three levels, 39-bit virtual addresses, 4 KiB / 2 MiB / 1 GiB pages. */
export const sv39: PageTableFormat = /* @__PURE__ */ riscv('sv39', 3, SatpMode.Sv39);

/** RISC-V Sv48: four levels, 48-bit virtual addresses, 4 KiB / 2 MiB / 1 GiB / 512 GiB pages. */
export const sv48: PageTableFormat = /* @__PURE__ */ riscv('sv48', 4, SatpMode.Sv48);
