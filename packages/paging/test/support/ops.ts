import fc from 'fast-check';
import type { PagePerms, PageTableFormat } from '../../src/index.js';

/** Generators of random address-space operations, shared by the model and agreement tests. */

export const KiB4 = 4096;
export const MiB2 = 2 ** 21;
export const GiB = 2 ** 30;

export type Perms = Required<PagePerms>;
export interface Segment {
  va: number;
  size: number;
  pa: number;
  perms: Perms;
}
export type Op =
  | { kind: 'map'; va: number; size: number; pa: number; perms: Perms; pageSize: 'auto' | number }
  | { kind: 'unmap'; va: number; size: number }
  | { kind: 'protect'; va: number; size: number; perms: Perms };

export function permsArb(format: PageTableFormat): fc.Arbitrary<Perms> {
  const base = fc.constantFrom(
    { read: true, write: true, execute: false },
    { read: true, write: false, execute: false },
    { read: true, write: false, execute: true },
    { read: true, write: true, execute: true },
    ...(format.arch === 'riscv' ? [{ read: false, write: false, execute: true }] : []),
  );
  return fc.record({ p: base, user: fc.boolean(), global: fc.boolean() }).map(({ p, user, global }) => ({ ...p, user, global }));
}

export function opArb(format: PageTableFormat): fc.Arbitrary<Op> {
  const half = 2 ** (format.vaBits - 1);
  // Addresses in the first 4 GiB of either half, aligned to 1 GiB, 2 MiB or 4 KiB often enough for every page size to occur.
  const offset = fc
    .record({
      g: fc.integer({ min: 0, max: 3 }),
      m: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 511 })),
      p: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 511 })),
    })
    .map(({ g, m, p }) => g * GiB + m * MiB2 + p * KiB4);
  const va = fc.tuple(fc.boolean(), offset).map(([upper, off]) => (upper ? -half + off : off));
  const size = fc.oneof(
    fc.integer({ min: 1, max: 48 }).map((n) => n * KiB4),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -2, max: 2 })).map(([n, k]) => n * MiB2 + k * KiB4),
    fc.tuple(fc.integer({ min: 1, max: 2 }), fc.constantFrom(0, MiB2, KiB4)).map(([n, k]) => n * GiB - k),
  );
  const delta = fc.constantFrom(8 * GiB, 8 * GiB + MiB2, 8 * GiB + KiB4);
  const pageSize = fc.oneof({ weight: 4, arbitrary: fc.constant<'auto'>('auto') }, { weight: 1, arbitrary: fc.constantFrom(...format.pageSizes) });
  const perms = permsArb(format);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant<'map'>('map'), va, size, delta, perms, pageSize }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant<'unmap'>('unmap'), va, size }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant<'protect'>('protect'), va, size, perms }) },
  ).map((o): Op => {
    if (o.kind !== 'map') return o;
    const { delta: d, ...rest } = o as typeof o & { delta: number };
    // Keep small-page mappings small: a 1 GiB range of 4 KiB pages is the benchmark's job.
    let dd = d;
    let ps = rest.pageSize;
    if (rest.size > 64 * MiB2) {
      dd = 8 * GiB;
      if (ps === KiB4) ps = 'auto';
    }
    if (ps !== 'auto' && (rest.va % ps !== 0 || rest.size % ps !== 0 || dd % ps !== 0)) ps = 'auto';
    return { ...rest, pageSize: ps, pa: Math.abs(rest.va) + dd };
  });
}

