import { describe, expect, it } from 'vitest';
import { type Access, Mmu, PageFault } from '../src/mmu/index.js';

// Page tables written by hand, bit by bit from the RISC-V privileged specification:
// PTE = PPN << 10 | D A G U X W R V; satp = MODE << 60 | ASID << 44 | PPN.
const V = 1n;
const R = 2n;
const W = 4n;
const X = 8n;
const U = 16n;
const G = 32n;
const A = 64n;
const D = 128n;
const LEAF_RW = V | R | W | A | D;

const BASE = 0x8000_0000;
const SIZE = 4 * 2 ** 20;
const KiB4 = 4096;
const MiB2 = 2 ** 21;
const GiB = 2 ** 30;

function machine(options?: { tlbEntries?: number }) {
  const bytes = new Uint8Array(SIZE);
  const view = new DataView(bytes.buffer);
  const mmu = new Mmu({ base: BASE, size: SIZE, bytes }, options);
  let next = BASE + 0x10_0000; // table pages
  const table = () => {
    const pa = next;
    next += KiB4;
    return pa;
  };
  const write = (tablePa: number, index: number, pte: bigint) => view.setBigUint64(tablePa - BASE + index * 8, pte, true);
  const pte = (pa: number, flags: bigint) => (BigInt(pa / KiB4) << 10n) | flags;
  return { mmu, table, write, pte, view };
}

const vpn = (va: number, level: number) => Math.floor(va / 2 ** (12 + 9 * level)) % 512;

function fault(f: () => unknown): PageFault {
  try {
    f();
  } catch (e) {
    if (e instanceof PageFault) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

/** An Sv39 tree with a 4 KiB page, a 2 MiB page and a 1 GiB page. */
function sv39() {
  const m = machine();
  const root = m.table();
  const l1 = m.table();
  const l0 = m.table();
  // 0x4000_0000 (4 KiB) → BASE + 0x5000, via l1 and l0.
  m.write(root, vpn(0x4000_0000, 2), m.pte(l1, V));
  m.write(l1, vpn(0x4000_0000, 1), m.pte(l0, V));
  m.write(l0, vpn(0x4000_0000, 0), m.pte(BASE + 0x5000, LEAF_RW));
  // 0x4020_0000 (2 MiB) → BASE + 0x20_0000, read/execute.
  m.write(l1, vpn(0x4020_0000, 1), m.pte(BASE + 0x20_0000, V | R | X | A));
  // 0x8000_0000 (1 GiB gigapage) → itself.
  m.write(root, vpn(0x8000_0000, 2), m.pte(0x8000_0000, LEAF_RW | G));
  m.mmu.setSatp((8n << 60n) | BigInt(root / KiB4));
  return { ...m, root, l1, l0 };
}

describe('Mmu: Bare', () => {
  it('translates nothing while satp.MODE = 0', () => {
    const { mmu } = machine();
    for (const access of ['read', 'write', 'execute'] as Access[]) expect(mmu.translate(0x1234_5678, access)).toBe(0x1234_5678);
    expect(mmu.mode).toBe('bare');
    expect(mmu.satp).toBe(0n);
  });

  it('ignores a satp write with a mode it does not implement (WARL)', () => {
    const { mmu } = machine();
    mmu.setSatp((10n << 60n) | 0x80000n); // Sv57
    expect(mmu.mode).toBe('bare');
    mmu.setSatp((1n << 60n) | 0x80000n);
    expect(mmu.satp).toBe(0n);
  });
});

describe('Mmu: Sv39 walk', () => {
  it('4 KiB, 2 MiB and 1 GiB pages keep the untranslated offset', () => {
    const { mmu } = sv39();
    expect(mmu.mode).toBe('sv39');
    expect(mmu.translate(0x4000_0abc, 'read')).toBe(BASE + 0x5abc);
    expect(mmu.translate(0x4000_0ff8, 'write')).toBe(BASE + 0x5ff8);
    expect(mmu.translate(0x4031_2345, 'execute')).toBe(BASE + 0x31_2345);
    expect(mmu.translate(0xbfff_fffc, 'write')).toBe(0xbfff_fffc);
  });

  it('an invalid entry is a page fault of the access type, with the address', () => {
    const { mmu } = sv39();
    expect(fault(() => mmu.translate(0x4000_1000, 'read'))).toMatchObject({ cause: 13, va: 0x4000_1000, access: 'read', kind: 'page', code: 13, addr: 0x4000_1000 });
    expect(fault(() => mmu.translate(0x4000_1000, 'write')).cause).toBe(15);
    expect(fault(() => mmu.translate(0x4000_1000, 'execute')).cause).toBe(12);
    expect(fault(() => mmu.translate(0x1_0000_0000, 'read')).reason).toMatch(/level-2 entry .* not valid/);
  });

  it('permissions: no write to R-X, no execute from RW-, no read from --X unless MXR', () => {
    const m = sv39();
    expect(fault(() => m.mmu.translate(0x4020_0000, 'write')).reason).toMatch(/not writable/);
    expect(fault(() => m.mmu.translate(0x4000_0000, 'execute')).reason).toMatch(/not executable/);
    m.write(m.l0, vpn(0x4000_2000, 0), m.pte(BASE + 0x6000, V | X | A));
    expect(fault(() => m.mmu.translate(0x4000_2000, 'read')).reason).toMatch(/not readable/);
    m.mmu.mxr = true;
    expect(m.mmu.translate(0x4000_2000, 'read')).toBe(BASE + 0x6000);
  });

  it('W without R is reserved; so are bits 63–54 and D/A/U on a pointer', () => {
    const m = sv39();
    m.write(m.l0, 1, m.pte(BASE, V | W | A | D));
    expect(fault(() => m.mmu.translate(0x4000_1000, 'read')).reason).toMatch(/W without R/);
    m.write(m.l0, 1, m.pte(BASE, LEAF_RW) | (1n << 54n));
    expect(fault(() => m.mmu.translate(0x4000_1000, 'read')).reason).toMatch(/reserved bits 63–54/);
    m.write(m.l0, 1, m.pte(BASE, LEAF_RW) | (1n << 62n)); // PBMT: Svpbmt is not implemented
    expect(fault(() => m.mmu.translate(0x4000_1000, 'read')).cause).toBe(13);
    m.write(m.l0, 1, m.pte(BASE, LEAF_RW) | (3n << 8n)); // RSW is the software's: ignored
    expect(m.mmu.translate(0x4000_1000, 'read')).toBe(BASE);
    m.write(m.root, vpn(0x4000_0000, 2), m.pte(m.l1, V | A));
    m.mmu.flush();
    expect(fault(() => m.mmu.translate(0x4000_0000, 'read')).reason).toMatch(/non-leaf .* D, A or U/);
  });

  it('a level-0 pointer and a misaligned superpage are page faults', () => {
    const m = sv39();
    m.write(m.l0, 3, m.pte(BASE, V));
    expect(fault(() => m.mmu.translate(0x4000_3000, 'read')).reason).toMatch(/level-0 entry .* points to another table/);
    m.write(m.l1, vpn(0x4040_0000, 1), m.pte(BASE + 0x1000, LEAF_RW));
    expect(fault(() => m.mmu.translate(0x4040_0000, 'read')).reason).toMatch(/misaligned superpage/);
    m.write(m.root, 3, m.pte(BASE + MiB2, LEAF_RW));
    expect(fault(() => m.mmu.translate(3 * GiB, 'read')).reason).toMatch(/misaligned superpage/);
  });

  it('Svade: A = 0 faults any access, D = 0 faults a store', () => {
    const m = sv39();
    m.write(m.l0, 4, m.pte(BASE, V | R | W));
    expect(fault(() => m.mmu.translate(0x4000_4000, 'read')).reason).toMatch(/accessed bit/);
    m.write(m.l0, 4, m.pte(BASE, V | R | W | A));
    m.mmu.flush();
    expect(m.mmu.translate(0x4000_4000, 'read')).toBe(BASE);
    // The read filled the TLB; the store must still fault on D = 0.
    expect(fault(() => m.mmu.translate(0x4000_4000, 'write')).reason).toMatch(/dirty bit/);
  });

  it('U pages: supervisor needs SUM to load/store and never executes them; user mode needs U', () => {
    const m = sv39();
    m.write(m.l0, 5, m.pte(BASE, LEAF_RW | X | U));
    expect(fault(() => m.mmu.translate(0x4000_5000, 'read')).reason).toMatch(/SUM = 0/);
    m.mmu.sum = true;
    expect(m.mmu.translate(0x4000_5000, 'write')).toBe(BASE);
    expect(fault(() => m.mmu.translate(0x4000_5000, 'execute')).reason).toMatch(/never executes/);
    m.mmu.privilege = 'user';
    expect(m.mmu.translate(0x4000_5000, 'execute')).toBe(BASE);
    expect(fault(() => m.mmu.translate(0x4000_0000, 'read')).reason).toMatch(/supervisor page/);
  });

  it('non-canonical addresses are page faults; upper-half addresses are negative numbers', () => {
    const m = sv39();
    expect(fault(() => m.mmu.translate(2 ** 38, 'read')).reason).toMatch(/canonical/);
    expect(fault(() => m.mmu.translate(-(2 ** 38) - KiB4, 'read')).reason).toMatch(/canonical/);
    // The top gigabyte: index 511 of the root.
    m.write(m.root, 511, m.pte(0x8000_0000, LEAF_RW));
    expect(m.mmu.translate(-GiB + 0x10, 'read')).toBe(0x8000_0010);
    expect(m.mmu.translate(-1, 'read')).toBe(0xbfff_ffff);
  });

  it('a walk that would leave RAM is an access fault and reads nothing outside', () => {
    const m = sv39();
    m.write(m.root, 4, m.pte(0x1000_0000, V)); // next table in device space
    expect(fault(() => m.mmu.translate(4 * GiB, 'read'))).toMatchObject({ cause: 5, kind: 'access' });
    expect(fault(() => m.mmu.translate(4 * GiB, 'write')).cause).toBe(7);
    expect(fault(() => m.mmu.translate(4 * GiB, 'execute')).cause).toBe(1);
    m.mmu.setSatp((8n << 60n) | BigInt((BASE + SIZE) / KiB4)); // root just past the end of RAM
    expect(fault(() => m.mmu.translate(0, 'read')).reason).toMatch(/outside RAM/);
  });
});

describe('Mmu: Sv48', () => {
  it('walks four levels and supports 512 GiB terapages', () => {
    const m = machine();
    const l3 = m.table();
    const l2 = m.table();
    const l1 = m.table();
    const l0 = m.table();
    const va = 0x7f12_3456_7000; // below 2^47
    m.write(l3, vpn(va, 3), m.pte(l2, V));
    m.write(l2, vpn(va, 2), m.pte(l1, V));
    m.write(l1, vpn(va, 1), m.pte(l0, V));
    m.write(l0, vpn(va, 0), m.pte(BASE + 0x3000, LEAF_RW));
    m.write(l3, 1, m.pte(0, V | R | A)); // 512 GiB at 512 GiB → 0
    m.mmu.setSatp((9n << 60n) | BigInt(l3 / KiB4));
    expect(m.mmu.mode).toBe('sv48');
    expect(m.mmu.translate(va + 0x10, 'write')).toBe(BASE + 0x3010);
    expect(m.mmu.translate(2 ** 39 + 0x12_3456_7890, 'read')).toBe(0x12_3456_7890);
    expect(fault(() => m.mmu.translate(2 ** 47, 'read')).reason).toMatch(/canonical/);
  });
});

describe('Mmu: TLB', () => {
  it('keeps serving a translation until flush(va) — also for any address in a superpage', () => {
    const m = sv39();
    expect(m.mmu.translate(0x4020_0000, 'read')).toBe(BASE + 0x20_0000);
    m.write(m.l1, vpn(0x4020_0000, 1), 0n);
    expect(m.mmu.translate(0x4021_0000, 'read')).toBe(BASE + 0x21_0000); // stale, from the TLB
    m.mmu.flush(0x403f_f000); // another address inside the same 2 MiB page
    expect(fault(() => m.mmu.translate(0x4021_0000, 'read')).cause).toBe(13);
  });

  it('flush() empties it, and writing satp does too', () => {
    const m = sv39();
    expect(m.mmu.translate(0x4000_0000, 'read')).toBe(BASE + 0x5000);
    m.write(m.l0, 0, m.pte(BASE + 0x9000, LEAF_RW));
    expect(m.mmu.translate(0x4000_0000, 'read')).toBe(BASE + 0x5000);
    m.mmu.flush();
    expect(m.mmu.translate(0x4000_0000, 'read')).toBe(BASE + 0x9000);
    m.write(m.l0, 0, m.pte(BASE + 0xa000, LEAF_RW));
    m.mmu.setSatp(m.mmu.satp);
    expect(m.mmu.translate(0x4000_0000, 'read')).toBe(BASE + 0xa000);
  });

  it('counts hits, and with the TLB off every access walks', () => {
    const m = sv39();
    m.mmu.translate(0x4000_0000, 'read');
    m.mmu.translate(0x4000_0008, 'read');
    m.mmu.translate(0x8000_0000, 'read');
    m.mmu.translate(0x8000_1000, 'read');
    expect([m.mmu.tlbHits, m.mmu.walks]).toEqual([2, 2]);
    const off = machine({ tlbEntries: 0 });
    const root = off.table();
    off.write(root, 2, off.pte(0x8000_0000, LEAF_RW));
    off.mmu.setSatp((8n << 60n) | BigInt(root / KiB4));
    off.mmu.translate(0x8000_0000, 'read');
    off.mmu.translate(0x8000_0000, 'read');
    expect([off.mmu.tlbHits, off.mmu.walks]).toEqual([0, 2]);
  });

  it('a TLB hit still checks the permission: a refused hit walks and faults', () => {
    const m = sv39();
    expect(m.mmu.translate(0x4020_0000, 'read')).toBe(BASE + 0x20_0000);
    expect(fault(() => m.mmu.translate(0x4020_0000, 'write')).cause).toBe(15);
  });
});
