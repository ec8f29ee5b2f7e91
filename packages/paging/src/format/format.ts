/**
 * One interface for every page-table format. A page-table entry is a 64-bit little-endian
 * word; the hot paths handle it as two 32-bit halves (`lo` = bits 0–31, `hi` = bits 32–63)
 * so that no BigInt is created per entry. Levels count from the leaves: level 0 holds the
 * 4 KiB entries, level `levels - 1` is the root.
 */

/** What a page allows. `user` and `global` default to false. */
export interface PagePerms {
  readonly read: boolean;
  readonly write: boolean;
  readonly execute: boolean;
  /** Reachable from user mode (RISC-V U, x86 U/S). The kernel maps nothing with it. */
  readonly user?: boolean;
  /** Present in every address space (RISC-V G, x86 G): kept across address-space switches. */
  readonly global?: boolean;
}

/** What an entry is, as the hardware walker would read it at a given level. */
export const PteKind = {
  /** Not valid / not present: nothing mapped below it. */
  Empty: 0,
  /** Points to the next level's table. */
  Table: 1,
  /** Maps a page of `pageSizes[level]` bytes. */
  Leaf: 2,
  /** An encoding the hardware rejects with a page fault (reserved bits, W without R, ...). */
  Reserved: 3,
} as const;
export type PteKind = (typeof PteKind)[keyof typeof PteKind];

/** An entry decoded into fields, for tests, diagnostics and tools; the hot paths use the word codec. */
export type DecodedPte =
  | { readonly kind: 'empty' }
  | { readonly kind: 'table'; readonly address: number }
  | {
      readonly kind: 'leaf';
      readonly address: number;
      readonly pageSize: number;
      readonly perms: Required<PagePerms>;
      readonly accessed: boolean;
      readonly dirty: boolean;
    }
  | { readonly kind: 'reserved'; readonly reason: string };

export interface PageTableFormat {
  readonly name: 'sv39' | 'sv48' | 'x86_64';
  readonly arch: 'riscv' | 'x86';
  /** Table levels a walk goes through (3 for Sv39, 4 for Sv48 and x86-64). */
  readonly levels: number;
  /** Significant virtual-address bits; the bits above must copy the top one (canonical form). */
  readonly vaBits: number;
  /** Physical-address bits the entry can hold. */
  readonly paBits: number;
  /**
   * Page sizes a leaf can map, indexed by level: `pageSizes[0]` is 4 KiB, `pageSizes[1]`
   * 2 MiB, ... A level without an entry here cannot hold a leaf.
   */
  readonly pageSizes: readonly number[];

  /** How the walker reads the entry `lo`/`hi` at `level`. */
  kind(lo: number, hi: number, level: number): PteKind;
  /** Physical address the entry points to: the page of a leaf, the next table of a pointer. */
  address(lo: number, hi: number, level: number): number;
  /** The permissions of a leaf entry. */
  perms(lo: number, hi: number): Required<PagePerms>;
  /** Why these permissions cannot be encoded in this format, or undefined if they can. */
  unencodable(perms: PagePerms): string | undefined;
  /** Low/high word of a leaf mapping `pa` at `level`. Accessed is set, and dirty when writable. */
  leafLo(pa: number, perms: PagePerms, level: number): number;
  leafHi(pa: number, perms: PagePerms, level: number): number;
  /**
   * How much the low word of a 4 KiB leaf grows from one page to the next (the weight of
   * the frame number's lowest bit), as long as that does not carry out of the low word.
   * Long runs of small pages are written by adding it instead of encoding every entry.
   */
  readonly leafStep: number;
  /** Low/high word of a pointer to the table at `pa`. */
  tableLo(pa: number): number;
  tableHi(pa: number): number;

  /** The value of the page-table root register (`satp`, `CR3`) for a root table at `rootPa`. */
  rootRegister(rootPa: number, asid?: number): bigint;

  /** BigInt conveniences over the word codec, for tests and tools. */
  encodeLeaf(pa: number, perms: PagePerms, level: number): bigint;
  encodeTable(pa: number): bigint;
  decode(pte: bigint, level: number): DecodedPte;
}

const TWO32 = 0x1_0000_0000;

/** Joins two 32-bit halves into a 64-bit value. */
export function joinWords(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Splits a 64-bit value into its low and high 32-bit halves. */
export function splitWords(pte: bigint): [lo: number, hi: number] {
  return [Number(pte & 0xffff_ffffn), Number((pte >> 32n) & 0xffff_ffffn)];
}

/** The high 32 bits of a non-negative integer below 2^53. */
export function high32(n: number): number {
  return Math.floor(n / TWO32);
}

/** Builds `encodeLeaf`, `encodeTable` and `decode` on top of a word codec. */
export function withBigIntCodec(
  f: Omit<PageTableFormat, 'encodeLeaf' | 'encodeTable' | 'decode'>,
  bits: {
    /** The accessed and dirty bits of a leaf, in the low word. */
    readonly accessed: number;
    readonly dirty: number;
    reservedReason(lo: number, hi: number, level: number): string;
  },
): PageTableFormat {
  return {
    ...f,
    encodeLeaf(pa: number, perms: PagePerms, level: number): bigint {
      return joinWords(f.leafLo(pa, perms, level), f.leafHi(pa, perms, level));
    },
    encodeTable(pa: number): bigint {
      return joinWords(f.tableLo(pa), f.tableHi(pa));
    },
    decode(pte: bigint, level: number): DecodedPte {
      const [lo, hi] = splitWords(pte);
      switch (f.kind(lo, hi, level)) {
        case PteKind.Empty:
          return { kind: 'empty' };
        case PteKind.Table:
          return { kind: 'table', address: f.address(lo, hi, level) };
        case PteKind.Leaf:
          return {
            kind: 'leaf',
            address: f.address(lo, hi, level),
            pageSize: f.pageSizes[level],
            perms: f.perms(lo, hi),
            accessed: (lo & bits.accessed) !== 0,
            dirty: (lo & bits.dirty) !== 0,
          };
        default:
          return { kind: 'reserved', reason: bits.reservedReason(lo, hi, level) };
      }
    },
  };
}
