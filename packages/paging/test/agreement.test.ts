import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The machine's own MMU, written separately from the specification: it must read the kernel's
// tables exactly as AddressSpace.translate does.
import { type Access, Mmu, PageFault } from '../../vmm/src/mmu/index.js';
import { AddressSpace, type PageTableFormat, sv39, sv48, type Translation } from '../src/index.js';
import { GiB, KiB4, MiB2, opArb } from './support/ops.js';
import { fakeRam } from './support/test-frames.js';

const RUNS = Number(process.env.UK_FUZZ_CASES ?? 25);
const ACCESSES: readonly Access[] = ['read', 'write', 'execute'];
const PAGE_FAULT = { read: 13, write: 15, execute: 12 } as const;

/** What the specification says an S-mode access through this translation does. */
function expected(t: Translation | undefined, access: Access, sum: boolean): number | 'fault' {
  if (t === undefined) return 'fault';
  const p = t.perms;
  if (p.user && (access === 'execute' || !sum)) return 'fault';
  if (access === 'read' ? !p.read : access === 'write' ? !p.write : !p.execute) return 'fault';
  return t.pa;
}

function outcome(mmu: Mmu, va: number, access: Access): number | 'fault' {
  try {
    return mmu.translate(va, access);
  } catch (e) {
    if (!(e instanceof PageFault)) throw e;
    if (e.va !== va || e.cause !== PAGE_FAULT[access]) return `fault ${e.cause} at ${e.va}` as 'fault';
    return 'fault';
  }
}

/** Compares every probe; collects mismatches so that the common case costs no expect() call. */
function agree(space: AddressSpace, mmu: Mmu, vas: readonly number[]): void {
  const wrong: string[] = [];
  for (const va of vas) {
    const t = space.translate(va);
    for (const access of ACCESSES) {
      const want = expected(t, access, mmu.sum);
      const first = outcome(mmu, va, access);
      const again = outcome(mmu, va, access); // the TLB answers this time
      if (first !== want || again !== want) wrong.push(`${access} ${va}: want ${want}, got ${first} then ${again}`);
    }
  }
  expect(wrong).toEqual([]);
}

/** Edges of every run of contiguous leaves, edges of up to 64 leaves, and scattered addresses. */
function probes(space: AddressSpace, salt: readonly number[]): number[] {
  const out: number[] = [0, 4095, 4096, MiB2 - 1, MiB2, GiB - 1, GiB, -1, -KiB4];
  const leaves = space.mappings();
  let runStart = 0;
  for (let i = 0; i < leaves.length; i++) {
    const m = leaves[i];
    const next = leaves[i + 1];
    if (next === undefined || next.va !== m.va + m.size) {
      out.push(leaves[runStart].va - 1, leaves[runStart].va, m.va + m.size - 1, m.va + m.size);
      runStart = i + 1;
    }
  }
  for (let k = 0; k < Math.min(64, leaves.length); k++) {
    const m = leaves[(salt[k % salt.length] + k * 7919) % leaves.length];
    out.push(m.va, m.va + m.size - 1, m.va + (salt[k % salt.length] % m.size));
  }
  for (const s of salt) out.push((s * 7919) % (4 * GiB));
  return out;
}

for (const format of [sv39, sv48] as PageTableFormat[]) {
  describe(`${format.name}: the VMM's MMU walks the kernel's tables like AddressSpace.translate`, () => {
    const { ram, frames } = fakeRam(32 * 2 ** 20);

    it('for every address tried, before and after changes (with sfence.vma)', () => {
      fc.assert(
        fc.property(
          fc.array(opArb(format), { minLength: 1, maxLength: 16 }),
          fc.array(opArb(format), { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
          fc.boolean(),
          (build, change, salt, sum) => {
            const mmu = new Mmu(ram);
            const space = new AddressSpace(format, ram, frames, { tlb: { flushTlb: (va) => mmu.flush(va) } });
            try {
              const apply = (ops: typeof build) => {
                for (const op of ops) {
                  try {
                    if (op.kind === 'map') space.map(op.va, op.pa, op.size, op.perms, { pageSize: op.pageSize });
                    else if (op.kind === 'unmap') space.unmap(op.va, op.size);
                    else space.protect(op.va, op.size, op.perms);
                  } catch {
                    // EEXIST / EFAULT: the model test covers those; here only the result matters.
                  }
                }
              };
              apply(build);
              mmu.setSatp(space.satp(7));
              mmu.sum = sum;
              expect(mmu.mode).toBe(format.name);
              agree(space, mmu, probes(space, salt));
              // One change at a time, as a kernel would: use the range (filling the TLB), change
              // it, and look again; a stale TLB entry would answer for the old mapping.
              for (const op of change) {
                const around = [op.va - 1, op.va, op.va + (salt[0] % op.size), op.va + op.size - 1, op.va + op.size];
                for (const va of around) for (const access of ACCESSES) outcome(mmu, va, access);
                apply([op]);
                agree(space, mmu, around);
              }
              agree(space, mmu, probes(space, salt));
            } finally {
              space.destroy();
            }
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
}

describe('the TLB is what the CPU flush call empties', () => {
  it('serves a stale translation until flushed, then faults', () => {
    const { ram, frames } = fakeRam();
    const space = new AddressSpace(sv39, ram, frames); // no TLB hook: nothing flushes for us
    const mmu = new Mmu(ram);
    space.map(0x4000_0000, 0x8000_0000, 2 * MiB2, { read: true, write: true, execute: false });
    mmu.setSatp(space.satp());
    expect(mmu.translate(0x4000_1234, 'read')).toBe(0x8000_1234);
    space.unmap(0x4000_0000, 2 * MiB2);
    expect(space.translate(0x4000_1234)).toBeUndefined();
    expect(mmu.translate(0x4000_1234, 'read')).toBe(0x8000_1234); // stale, as on hardware
    mmu.flush(0x4000_1000);
    expect(() => mmu.translate(0x4000_1234, 'read')).toThrow(PageFault);
  });
});
