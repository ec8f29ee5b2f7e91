import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSatp, encodeSatp, type PagePerms, type PageTableFormat, RiscvPte, SatpMode, sv39, sv48, X86Pte, x86_64 } from '../src/index.js';

const bit = (n: number | bigint) => 1n << BigInt(n);
const field = (pte: bigint, lo: number, hi: number) => (pte >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);

// Bit positions as the RISC-V privileged specification draws the Sv39/Sv48 PTE:
// V=0 R=1 W=2 X=3 U=4 G=5 A=6 D=7 RSW=9..8, PPN from bit 10, reserved 60..54, PBMT 62..61, N 63.
describe('RISC-V PTE bits', () => {
  it('names each flag at the position the specification gives it', () => {
    expect([RiscvPte.V, RiscvPte.R, RiscvPte.W, RiscvPte.X, RiscvPte.U, RiscvPte.G, RiscvPte.A, RiscvPte.D]).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect(RiscvPte.RSW_SHIFT).toBe(8);
    expect(RiscvPte.PPN_SHIFT).toBe(10);
  });

  it('Sv39 leaf: PPN[0] in 18–10, PPN[1] in 27–19, PPN[2] in 53–28, flags in 7–0', () => {
    const ppn0 = 0x1a5n;
    const ppn1 = 0x0c3n;
    const ppn2 = 0x2abcdn;
    const pa = Number(((ppn2 << 18n) | (ppn1 << 9n) | ppn0) << 12n);
    const pte = sv39.encodeLeaf(pa, { read: true, write: true, execute: false }, 0);
    const expected = (ppn2 << 28n) | (ppn1 << 19n) | (ppn0 << 10n) | bit(7) | bit(6) | bit(2) | bit(1) | bit(0);
    expect(pte).toBe(expected);
    expect(field(pte, 10, 18)).toBe(ppn0);
    expect(field(pte, 19, 27)).toBe(ppn1);
    expect(field(pte, 28, 53)).toBe(ppn2);
    expect(field(pte, 54, 63)).toBe(0n);
    expect(field(pte, 8, 9)).toBe(0n); // RSW left to software, unused
  });

  it('Sv48 leaf: PPN[2] in 36–28 and PPN[3] in 53–37', () => {
    const ppn = [0x011n, 0x1ffn, 0x155n, 0x0_abcdn];
    const pa = Number(((ppn[3] << 27n) | (ppn[2] << 18n) | (ppn[1] << 9n) | ppn[0]) << 12n);
    const pte = sv48.encodeLeaf(pa, { read: true, write: false, execute: true, user: true, global: true }, 0);
    expect(field(pte, 10, 18)).toBe(ppn[0]);
    expect(field(pte, 19, 27)).toBe(ppn[1]);
    expect(field(pte, 28, 36)).toBe(ppn[2]);
    expect(field(pte, 37, 53)).toBe(ppn[3]);
    // R X U G A, no W, no D.
    expect(field(pte, 0, 7)).toBe(0b0111_1011n);
  });

  it('a pointer to the next level carries V only (D, A, U are reserved in non-leaf PTEs)', () => {
    expect(sv39.encodeTable(0x8000_5000)).toBe((0x80005n << 10n) | 1n);
    expect(sv48.encodeTable(0x8000_5000)).toBe((0x80005n << 10n) | 1n);
  });

  it('sets A on every leaf and D only on writable ones', () => {
    const ro = sv39.encodeLeaf(0x8000_0000, { read: true, write: false, execute: false }, 0);
    expect(ro & bit(6)).toBe(bit(6));
    expect(ro & bit(7)).toBe(0n);
  });

  it('megapages and gigapages carry the same flags at levels 1 and 2', () => {
    const mega = sv39.encodeLeaf(0x8020_0000, { read: true, write: true, execute: true }, 1);
    expect(mega).toBe((0x80200n << 10n) | 0xcfn);
    const giga = sv39.encodeLeaf(0x8000_0000, { read: true, write: true, execute: true }, 2);
    expect(giga).toBe((0x80000n << 10n) | 0xcfn);
  });

  it('decodes what the walker must reject as reserved', () => {
    const ppn = 0x80000n << 10n;
    const reasons = (f: PageTableFormat, pte: bigint, level: number) => {
      const d = f.decode(pte, level);
      return d.kind === 'reserved' ? d.reason : d.kind;
    };
    expect(reasons(sv39, ppn | 0b101n, 0)).toMatch(/W without R/); // V W
    expect(reasons(sv39, ppn | 0b11n | bit(54), 0)).toMatch(/63–54/);
    expect(reasons(sv39, ppn | 0b11n | bit(63), 0)).toMatch(/63–54/); // N without Svnapot
    expect(reasons(sv39, ppn | 0b11n | bit(61), 0)).toMatch(/63–54/); // PBMT without Svpbmt
    expect(reasons(sv39, ppn | 1n | bit(6), 1)).toMatch(/non-leaf/); // pointer with A
    expect(reasons(sv39, ppn | 1n, 0)).toMatch(/level-0/);
    expect(reasons(sv39, (0x80001n << 10n) | 0xcfn, 1)).toMatch(/misaligned superpage/);
    expect(reasons(sv39, (0x80200n << 10n) | 0xcfn, 2)).toMatch(/misaligned superpage/);
    expect(sv39.decode(ppn | 0xcen, 0)).toEqual({ kind: 'empty' }); // V clear: nothing else matters
    expect(sv39.decode(ppn | 0x3n | bit(8) | bit(9), 0).kind).toBe('leaf'); // RSW is ignored
  });
});

// satp (RV64): MODE 63–60, ASID 59–44, PPN 43–0; Bare = 0, Sv39 = 8, Sv48 = 9.
describe('satp', () => {
  it('Sv39 and Sv48 root registers', () => {
    expect(sv39.rootRegister(0x8000_1000, 0x1234)).toBe((8n << 60n) | (0x1234n << 44n) | 0x80001n);
    expect(sv48.rootRegister(0x8000_1000)).toBe((9n << 60n) | 0x80001n);
    expect(SatpMode).toEqual({ Bare: 0, Sv39: 8, Sv48: 9, Sv57: 10 });
  });

  it('round-trips through encodeSatp/decodeSatp', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 8, 9), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 41 - 1 }), (mode, asid, ppn) => {
        const satp = encodeSatp({ mode, asid, ppn });
        expect(field(satp, 60, 63)).toBe(BigInt(mode));
        expect(field(satp, 44, 59)).toBe(BigInt(asid));
        expect(field(satp, 0, 43)).toBe(BigInt(ppn));
        expect(decodeSatp(satp)).toEqual({ mode, asid, ppn, rootAddress: ppn * 4096 });
      }),
    );
  });
});

// x86-64 (Intel SDM vol. 3A, tables 4-14 to 4-19): P=0 R/W=1 U/S=2 PWT=3 PCD=4 A=5 D=6 PS=7
// G=8, frame address 51–12, XD=63; bit 12 is PAT in 2 MiB / 1 GiB entries.
describe('x86-64 entries', () => {
  it('names each flag at its position', () => {
    expect([X86Pte.P, X86Pte.RW, X86Pte.US, X86Pte.PWT, X86Pte.PCD, X86Pte.A, X86Pte.D, X86Pte.PS, X86Pte.G]).toEqual([
      1, 2, 4, 8, 16, 32, 64, 128, 256,
    ]);
    expect(X86Pte.PAT_LARGE).toBe(1 << 12);
    expect(BigInt(X86Pte.XD_HI) << 32n).toBe(bit(63));
  });

  it('4 KiB leaf: frame number in bits 51–12, XD in 63, no PS', () => {
    const pa = 0x000f_edcb_a987_6000;
    const pte = x86_64.encodeLeaf(pa, { read: true, write: true, execute: false }, 0);
    expect(field(pte, 12, 51)).toBe(BigInt(pa) >> 12n);
    expect(pte).toBe(BigInt(pa) | bit(63) | bit(6) | bit(5) | bit(1) | bit(0));
    const top = x86_64.encodeLeaf(2 ** 52 - 4096, { read: true, write: false, execute: true }, 0);
    expect(field(top, 12, 51)).toBe((1n << 40n) - 1n);
    expect(field(top, 52, 63)).toBe(0n);
  });

  it('2 MiB and 1 GiB leaves set PS; user and global set U/S and G', () => {
    const two = x86_64.encodeLeaf(0x4020_0000, { read: true, write: false, execute: true, user: true, global: true }, 1);
    expect(two).toBe(0x4020_0000n | bit(8) | bit(7) | bit(5) | bit(2) | bit(0));
    const one = x86_64.encodeLeaf(0x4000_0000, { read: true, write: true, execute: true }, 2);
    expect(one).toBe(0x4000_0000n | bit(7) | bit(6) | bit(5) | bit(1) | bit(0));
  });

  it('pointers allow everything so that the leaf decides (rights combine across levels)', () => {
    expect(x86_64.encodeTable(0x1234_5000)).toBe(0x1234_5000n | 0b111n);
  });

  it('decodes PAT in large pages, and rejects PS in a PML4 entry and misaligned large frames', () => {
    const pat = x86_64.decode(0x4020_0000n | bit(12) | bit(7) | bit(5) | bit(0), 1);
    expect(pat.kind === 'leaf' && pat.address).toBe(0x4020_0000);
    expect(x86_64.decode(0x1000n | bit(7) | bit(0), 3).kind).toBe('reserved');
    expect(x86_64.decode(0x4000_2000n | bit(7) | bit(0), 1).kind).toBe('reserved');
    expect(x86_64.decode(0x4020_0000n | bit(7) | bit(0), 2).kind).toBe('reserved');
    // PWT and PCD are read back as part of a valid leaf; bit 7 in a 4 KiB entry is PAT, not PS.
    const pt = x86_64.decode(0x5000n | bit(7) | bit(4) | bit(3) | bit(0), 0);
    expect(pt.kind === 'leaf' && pt.pageSize).toBe(4096);
    expect(x86_64.decode(0x5000n | bit(1), 0)).toEqual({ kind: 'empty' });
  });

  it('CR3 holds the PML4 address and the PCID', () => {
    expect(x86_64.rootRegister(0x0123_4000, 5)).toBe(0x0123_4005n);
  });

  it('x86-64 cannot express an unreadable page; RISC-V cannot express write-only or no access', () => {
    expect(x86_64.unencodable({ read: false, write: false, execute: true })).toMatch(/always readable/);
    expect(sv39.unencodable({ read: false, write: true, execute: false })).toMatch(/reserved/);
    expect(sv39.unencodable({ read: false, write: false, execute: false })).toMatch(/at least one/);
    expect(sv39.unencodable({ read: false, write: false, execute: true })).toBeUndefined();
  });
});

describe('every format round-trips its leaves', () => {
  const perms = fc.record({ read: fc.boolean(), write: fc.boolean(), execute: fc.boolean(), user: fc.boolean(), global: fc.boolean() });
  for (const format of [sv39, sv48, x86_64]) {
    it(format.name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: format.pageSizes.length - 1 }), fc.nat(), perms, (level, n, p: Required<PagePerms>) => {
          fc.pre(format.unencodable(p) === undefined);
          const size = format.pageSizes[level];
          const pa = (n % Math.floor(2 ** Math.min(format.paBits, 53) / size)) * size;
          const d = format.decode(format.encodeLeaf(pa, p, level), level);
          expect(d).toEqual({ kind: 'leaf', address: pa, pageSize: size, perms: p, accessed: true, dirty: p.write });
          const t = format.decode(format.encodeTable(pa - (pa % 4096)), Math.max(1, level));
          expect(t).toEqual({ kind: 'table', address: pa });
        }),
      );
    });
  }
});
