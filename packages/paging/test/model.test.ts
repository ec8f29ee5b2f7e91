import fc from 'fast-check';
import { isKernelError } from '@uk/hal';
import { describe, expect, it } from 'vitest';
import { AddressSpace, sv39, sv48, x86_64 } from '../src/index.js';
import { KiB4, opArb, type Perms, type Segment } from './support/ops.js';
import { fakeRam } from './support/test-frames.js';

/**
 * Random map / unmap / protect sequences against a model that keeps mappings as a list of
 * byte intervals. After every step the page tables must translate like the model, and at the
 * end hold exactly the model's mappings; after unmapping everything only the root is left.
 */

const RUNS = Number(process.env.UK_FUZZ_CASES ?? 40);

class Model {
  segs: Segment[] = [];

  overlaps(va: number, size: number): boolean {
    return this.segs.some((s) => s.va < va + size && va < s.va + s.size);
  }

  covered(va: number, size: number): boolean {
    let at = va;
    for (const s of [...this.segs].sort((a, b) => a.va - b.va)) {
      if (s.va > at) break;
      if (s.va + s.size > at) at = s.va + s.size;
      if (at >= va + size) return true;
    }
    return at >= va + size;
  }

  /** Cuts [va, va+size) out; returns the pieces that were inside. */
  cut(va: number, size: number): Segment[] {
    const end = va + size;
    const keep: Segment[] = [];
    const inside: Segment[] = [];
    for (const s of this.segs) {
      const sEnd = s.va + s.size;
      if (sEnd <= va || s.va >= end) {
        keep.push(s);
        continue;
      }
      if (s.va < va) keep.push({ ...s, size: va - s.va });
      if (sEnd > end) keep.push({ ...s, va: end, pa: s.pa + (end - s.va), size: sEnd - end });
      const lo = Math.max(s.va, va);
      const hi = Math.min(sEnd, end);
      inside.push({ ...s, va: lo, pa: s.pa + (lo - s.va), size: hi - lo });
    }
    this.segs = keep;
    return inside;
  }

  lookup(va: number): { pa: number; perms: Perms } | undefined {
    for (const s of this.segs) if (va >= s.va && va < s.va + s.size) return { pa: s.pa + (va - s.va), perms: s.perms };
    return undefined;
  }
}

/** Intervals merged where they continue each other (same perms, contiguous va and pa). */
function normalise(list: readonly Segment[]): Segment[] {
  const sorted = [...list].sort((a, b) => a.va - b.va);
  const out: Segment[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && last.va + last.size === s.va && last.pa + last.size === s.pa && JSON.stringify(last.perms) === JSON.stringify(s.perms)) {
      last.size += s.size;
    } else {
      out.push({ ...s, perms: { ...s.perms } });
    }
  }
  return out;
}

function errorCode(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
}

for (const format of [sv39, sv48, x86_64]) {
  describe(`${format.name}: random operations agree with the model`, () => {
    const { ram, frames } = fakeRam(32 * 2 ** 20);

    it('translates like the model after every step', () => {
      fc.assert(
        fc.property(fc.array(opArb(format), { minLength: 1, maxLength: 24 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (ops, salt) => {
          const space = new AddressSpace(format, ram, frames);
          const model = new Model();
          try {
            for (const op of ops) {
              const probes = [op.va - 1, op.va, op.va + op.size - 1, op.va + op.size];
              if (op.kind === 'map') {
                const expectErr = model.overlaps(op.va, op.size) ? 'EEXIST' : undefined;
                expect(errorCode(() => space.map(op.va, op.pa, op.size, op.perms, { pageSize: op.pageSize }))).toBe(expectErr);
                if (!expectErr) model.segs.push({ va: op.va, size: op.size, pa: op.pa, perms: op.perms });
              } else if (op.kind === 'unmap') {
                space.unmap(op.va, op.size);
                model.cut(op.va, op.size);
              } else {
                const expectErr = model.covered(op.va, op.size) ? undefined : 'EFAULT';
                expect(errorCode(() => space.protect(op.va, op.size, op.perms))).toBe(expectErr);
                if (!expectErr) {
                  const inside = model.cut(op.va, op.size);
                  model.segs.push(...inside.map((s) => ({ ...s, perms: op.perms })));
                }
              }
              for (const s of model.segs) probes.push(s.va, s.va + s.size - 1, s.va + (salt[s.size % 8] % (s.size / KiB4)) * KiB4 + (salt[0] % KiB4));
              for (const va of probes) {
                const want = model.lookup(va);
                const got = space.translate(va);
                if (want === undefined) expect(got, `va ${va}`).toBeUndefined();
                else expect({ pa: got?.pa, perms: got?.perms }, `va ${va}`).toEqual(want);
              }
            }
            expect(normalise(space.mappings())).toEqual(normalise(model.segs));
            for (const s of model.segs) space.unmap(s.va, s.size);
            expect(space.tablePages).toBe(1);
          } finally {
            space.destroy();
          }
          expect(frames.live.size).toBe(0);
        }),
        { numRuns: RUNS },
      );
    });
  });
}
