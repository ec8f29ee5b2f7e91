// Page-table benchmark: time to map 64 MiB and 1 GiB with 4 KiB pages and with huge pages,
// and translations per second through the VMM's MMU with its TLB against a full walk.
//
//   pnpm --filter @uk/hal --filter @uk/paging build    (and build @uk/vmm for the MMU rows)
//   node bench/paging/index.mjs
//
// UK_BENCH_REPEAT scales the repetitions (default 1); UK_BENCH_MMU names a compiled copy of
// packages/vmm/src/mmu when the VMM's build does not export Mmu.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pagingDist = `${root}packages/paging/dist/index.js`;
if (!existsSync(pagingDist)) {
  console.error('bench/paging: build @uk/paging first (pnpm --filter @uk/hal --filter @uk/paging build)');
  process.exit(1);
}
const { AddressSpace, sv39 } = await import(pathToFileURL(pagingDist).href);

const REPEAT = Math.max(1, Number(process.env.UK_BENCH_REPEAT ?? 1));
const KiB4 = 4096;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 16 * MiB; // holds the tables of a 1 GiB range of 4 KiB pages (2 MiB)

/** A free list of 4 KiB frames over the fake RAM, like a region allocator. */
class Frames {
  constructor(base, size) {
    this.free = [];
    for (let pa = base + size - KiB4; pa >= base; pa -= KiB4) this.free.push(pa);
    this.totalBytes = size;
  }
  get freeBytes() {
    return this.free.length * KiB4;
  }
  allocFrames() {
    const pa = this.free.pop();
    if (pa === undefined) throw new Error('bench RAM exhausted');
    return pa;
  }
  freeFrames(pa) {
    this.free.push(pa);
  }
}

const ram = { base: RAM_BASE, size: RAM_SIZE, bytes: new Uint8Array(RAM_SIZE) };
const frames = new Frames(RAM_BASE + 4 * MiB, RAM_SIZE - 4 * MiB);
const RW = { read: true, write: true, execute: false, global: true };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median and best time of `runs` calls of `once`, which returns the ms its timed part took. */
function measure(runs, once) {
  for (let i = 0; i < Math.min(3, runs); i++) once(); // warm up the JIT
  const t = [];
  for (let i = 0; i < runs * REPEAT; i++) t.push(once());
  return { median: median(t), best: Math.min(...t) };
}

/** The floor: storing the same number of 64-bit entries into RAM in a plain loop. */
function rawStores(entries) {
  const words = new Uint32Array(ram.bytes.buffer, 0, MiB); // the first 4 MiB, outside the frames
  return () => {
    const t0 = performance.now();
    let i = 0;
    for (let k = 0; k < entries; k++) {
      words[i + 1] = 0;
      words[i] = ((k << 10) | 0xc7) >>> 0;
      i = (i + 2) & (MiB - 2);
    }
    return performance.now() - t0;
  };
}

function mapOnce(va, size, pageSize) {
  return () => {
    const space = new AddressSpace(sv39, ram, frames);
    const t0 = performance.now();
    space.map(va, va, size, RW, { pageSize });
    const ms = performance.now() - t0;
    space.destroy();
    return ms;
  };
}

const us = (ms) => (ms * 1000).toFixed(1);
const mapRows = [];
const small = new Map();
for (const [label, size, pageSize, entries, runs] of [
  ['64 MiB, 4 KiB pages', 64 * MiB, KiB4, (64 * MiB) / KiB4, 40],
  ['64 MiB, 2 MiB pages (auto)', 64 * MiB, 'auto', 32, 200],
  ['1 GiB, 4 KiB pages', GiB, KiB4, GiB / KiB4, 8],
  ['1 GiB, 1 GiB page (auto)', GiB, 'auto', 1, 200],
]) {
  const m = measure(runs, mapOnce(GiB, size, pageSize));
  const raw = measure(runs, rawStores(entries));
  if (pageSize === KiB4) small.set(size, m.median);
  mapRows.push({
    mapping: label,
    'PTEs written': entries,
    'median µs': us(m.median),
    'best µs': us(m.best),
    'ns / PTE': ((m.median * 1e6) / entries).toFixed(1),
    'raw PTE stores µs (floor)': us(raw.median),
    'vs raw stores': `${(m.median / raw.median).toFixed(2)}×`,
    'vs 4 KiB pages': pageSize === KiB4 ? '1×' : `${(small.get(size) / m.median).toFixed(0)}× faster`,
  });
}
console.log('\nMapping with @uk/paging (Sv39, identity-style, tables in a 16 MiB fake RAM)');
console.table(mapRows);
console.log('For reference, Unikraft reports 29 µs for static page tables and 46–114 µs for dynamic ones (not measured here).');

// ── translations ─────────────────────────────────────────────────────────────────────
// The VMM's MMU from its build; UK_BENCH_MMU may name another compiled copy of src/mmu.
const candidates = [process.env.UK_BENCH_MMU, `${root}packages/vmm/dist/mmu/index.js`, `${root}packages/vmm/dist/index.js`].filter(Boolean);
let Mmu;
for (const c of candidates) {
  if (!existsSync(c)) continue;
  const mod = await import(pathToFileURL(c).href);
  if (typeof mod.Mmu === 'function') {
    Mmu = mod.Mmu;
    break;
  }
}

/** Translations per second over `addrs`, repeated to at least `total` lookups. */
function rate(translate, addrs, total) {
  const n = addrs.length;
  let sink = 0;
  for (let i = 0; i < Math.min(total, 200_000); i++) sink += translate(addrs[i % n]); // warm up
  const t0 = performance.now();
  for (let i = 0; i < total; i++) sink += translate(addrs[i % n]);
  const ms = performance.now() - t0;
  if (sink === -1) console.log(sink);
  return (total / ms) * 1000;
}

function addresses(count, spanPages, pageBytes) {
  const out = new Float64Array(count);
  let x = 12345;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = RAM_BASE + (x % spanPages) * pageBytes + (x % 512) * 8;
  }
  return out;
}

const TOTAL = 2_000_000 * REPEAT;
const rows = [];
const kernelSpace = new AddressSpace(sv39, ram, frames);
kernelSpace.map(RAM_BASE, RAM_BASE, 64 * MiB, RW, { pageSize: KiB4 });
const hugeSpace = new AddressSpace(sv39, ram, frames);
hugeSpace.map(RAM_BASE, RAM_BASE, 64 * MiB, RW); // 2 MiB pages
const hot = addresses(4096, 64, KiB4); // 64 pages: fits the TLB
const cold = addresses(4096, 16384, KiB4); // all of 64 MiB: mostly misses

if (Mmu === undefined) {
  console.log('\nTranslations: build @uk/vmm first (its dist must export Mmu); only the kernel-side walk is measured.');
  const soft = rate((va) => kernelSpace.translate(va).pa, hot, TOTAL / 4);
  rows.push({ path: 'AddressSpace.translate (kernel software walk)', 'translations/s': Math.round(soft).toLocaleString() });
} else {
  const bare = new Mmu(ram);
  const withTlb = new Mmu(ram);
  withTlb.setSatp(kernelSpace.satp());
  const noTlb = new Mmu(ram, { tlbEntries: 0 });
  noTlb.setSatp(kernelSpace.satp());
  const hugeTlb = new Mmu(ram);
  hugeTlb.setSatp(hugeSpace.satp());
  const hugeWalk = new Mmu(ram, { tlbEntries: 0 });
  hugeWalk.setSatp(hugeSpace.satp());

  const walk4k = rate((va) => noTlb.translate(va, 'read'), hot, TOTAL);
  const walk2m = rate((va) => hugeWalk.translate(va, 'read'), hot, TOTAL);
  const add = (path, r, base) => rows.push({ path, 'translations/s': Math.round(r).toLocaleString(), 'vs full walk': `${(r / base).toFixed(1)}×` });
  add('Bare mode (MMU off), identity', rate((va) => bare.translate(va, 'read'), hot, TOTAL), walk4k);
  add('4 KiB pages, TLB, 64-page working set (hits)', rate((va) => withTlb.translate(va, 'read'), hot, TOTAL), walk4k);
  add('4 KiB pages, TLB, 16384-page working set (misses)', rate((va) => withTlb.translate(va, 'read'), cold, TOTAL), walk4k);
  add('4 KiB pages, no TLB: full 3-level walk (baseline)', walk4k, walk4k);
  add('2 MiB pages, TLB, 16384-page spread', rate((va) => hugeTlb.translate(va, 'read'), cold, TOTAL), walk2m);
  add('2 MiB pages, no TLB: 2-level walk (baseline)', walk2m, walk2m);
  add('AddressSpace.translate (kernel software walk)', rate((va) => kernelSpace.translate(va).pa, hot, TOTAL / 4), walk4k);
}
console.log('\nTranslations through the MMU (Sv39, 64 MiB identity map)');
console.table(rows);
kernelSpace.destroy();
hugeSpace.destroy();
