import { type FrameAllocator, KernelError } from '@uk/hal';
import { formatPa, formatVa, vaIndex } from '../address/virtual-address.js';
import { type PagePerms, type PageTableFormat, PteKind } from '../format/format.js';
import { type PhysicalMemory, TableMemory } from '../table/table-memory.js';

/** What a virtual address maps to. */
export interface Translation {
  readonly pa: number;
  readonly perms: Required<PagePerms>;
  /** Size of the page the address lies in (4 KiB, 2 MiB, 1 GiB...). */
  readonly pageSize: number;
}

/** One leaf entry: a page of `size` bytes at `va`. */
export interface Mapping {
  readonly va: number;
  readonly pa: number;
  readonly size: number;
  readonly perms: Required<PagePerms>;
}

export interface MapOptions {
  /**
   * `'auto'` (the default) uses the largest page that the alignment of `va` and `pa` and the
   * remaining length allow; a number forces that page size, which `va`, `pa` and `size` must
   * then be multiples of.
   */
  readonly pageSize?: 'auto' | number;
}

/** Something that drops cached translations: the CPU (`sfence.vma`) or a test's TLB. */
export interface TlbControl {
  flushTlb(va?: number): void;
}

export interface AddressSpaceOptions {
  /** Flushed after every change, page by page for small ranges, entirely for large ones. */
  readonly tlb?: TlbControl;
}

const PAGE = 4096;
const ENTRIES = 512;
/** Changes up to this many pages are flushed page by page; larger ones flush everything. */
const FLUSH_PAGES = 32;

/**
 * An address space: a tree of page tables in physical memory, in one of the formats of
 * {@link PageTableFormat}. Table pages come from a {@link FrameAllocator} and go back to it
 * as soon as they hold no entry. Each table's count of valid entries is kept beside the
 * tables (not in RSW bits), so that emptiness is known without scanning 512 entries.
 */
export class AddressSpace {
  readonly format: PageTableFormat;
  /** Physical address of the root table. */
  readonly rootAddress: number;

  private readonly mem: TableMemory;
  private readonly frames: FrameAllocator;
  private readonly tlb: TlbControl | undefined;
  /** Valid entries in each live table, keyed by the table's physical address. */
  private readonly counts = new Map<number, number>();
  /** Bytes one entry spans at each level. */
  private readonly spans: number[];
  private readonly span: number;
  private readonly top: number;
  private destroyed = false;

  constructor(format: PageTableFormat, mem: PhysicalMemory, frames: FrameAllocator, options: AddressSpaceOptions = {}) {
    this.format = format;
    this.mem = new TableMemory(mem);
    this.frames = frames;
    this.tlb = options.tlb;
    this.spans = [];
    for (let l = 0; l < format.levels; l++) this.spans.push(2 ** (12 + 9 * l));
    this.span = 2 ** format.vaBits;
    this.top = format.levels - 1;
    this.rootAddress = this.allocTable();
  }

  /** Page-table pages in use, the root included. */
  get tablePages(): number {
    return this.counts.size;
  }

  /**
   * Maps `size` bytes at `va` to `pa`. `va`, `pa` and `size` are multiples of 4 KiB; nothing
   * in the range may be mapped yet (EEXIST). On failure nothing is left mapped.
   */
  map(va: number, pa: number, size: number, perms: PagePerms, opts: MapOptions = {}): void {
    this.alive();
    const why = this.format.unencodable(perms);
    if (why !== undefined) throw new KernelError('EINVAL', `cannot map ${formatVa(va)}: ${why}`);
    const u = this.range(va, size, 'map');
    if (!Number.isInteger(pa) || pa < 0 || pa % PAGE !== 0 || pa + size > Math.min(2 ** this.format.paBits, 2 ** 53)) {
      throw new KernelError('EINVAL', `cannot map ${formatVa(va)}: physical address ${formatPa(pa)} (+${size} bytes) is not 4 KiB-aligned or beyond ${this.format.paBits} bits`);
    }
    let leafLevel = -1;
    const want = opts.pageSize ?? 'auto';
    if (want !== 'auto') {
      leafLevel = this.format.pageSizes.indexOf(want);
      if (leafLevel < 0) {
        throw new KernelError('EINVAL', `${this.format.name} has no ${want}-byte pages; use one of ${this.format.pageSizes.join(', ')} or 'auto'`);
      }
      if (va % want !== 0 || pa % want !== 0 || size % want !== 0) {
        throw new KernelError('EINVAL', `with ${want}-byte pages, va ${formatVa(va)}, pa ${formatPa(pa)} and size ${size} must all be multiples of ${want}`);
      }
    }
    this.checkEmpty(this.rootAddress, this.top, u, u + size);
    try {
      this.mapIn(this.rootAddress, this.top, u, u + size, pa, perms, leafLevel);
    } catch (e) {
      // The range was empty: clearing all of it undoes exactly what this call added.
      this.unmapIn(this.rootAddress, this.top, u, u + size);
      throw e;
    }
    this.flush(va, size);
  }

  /**
   * Removes every mapping in the range; holes are skipped. A huge page that the range only
   * partly covers is split first. Tables left empty go back to the frame allocator.
   */
  unmap(va: number, size: number): void {
    this.alive();
    const u = this.range(va, size, 'unmap');
    this.unmapIn(this.rootAddress, this.top, u, u + size);
    this.flush(va, size);
  }

  /** Changes the permissions of every page in the range, which must be mapped throughout (EFAULT). */
  protect(va: number, size: number, perms: PagePerms): void {
    this.alive();
    const why = this.format.unencodable(perms);
    if (why !== undefined) throw new KernelError('EINVAL', `cannot protect ${formatVa(va)}: ${why}`);
    const u = this.range(va, size, 'protect');
    this.checkMapped(this.rootAddress, this.top, u, u + size);
    this.protectIn(this.rootAddress, this.top, u, u + size, perms);
    this.flush(va, size);
  }

  /** What `va` maps to, as the hardware would find it, or undefined. */
  translate(va: number): Translation | undefined {
    const u = vaIndex(va, this.format.vaBits);
    if (u < 0 || this.destroyed) return undefined;
    const f = this.format;
    const m = this.mem;
    let table = this.rootAddress;
    for (let level = this.top; level >= 0; level--) {
      const span = this.spans[level];
      const slot = table + (Math.floor(u / span) % ENTRIES) * 8;
      const lo = m.lo(slot);
      const hi = m.hi(slot);
      const kind = f.kind(lo, hi, level);
      if (kind === PteKind.Table) {
        table = f.address(lo, hi, level);
        continue;
      }
      if (kind !== PteKind.Leaf) return undefined;
      return { pa: f.address(lo, hi, level) + (u % span), perms: f.perms(lo, hi), pageSize: span };
    }
    return undefined;
  }

  /** Every leaf entry, in address order (lower half first). */
  mappings(): Mapping[] {
    const out: Mapping[] = [];
    if (!this.destroyed) this.collect(this.rootAddress, this.top, 0, out);
    return out;
  }

  /** The `satp` value that activates this address space (RISC-V only). */
  satp(asid = 0): bigint {
    if (this.format.arch !== 'riscv') {
      throw new KernelError('ENOTSUP', `satp is a RISC-V register; for ${this.format.name} use rootRegister() (CR3)`);
    }
    return this.rootRegister(asid);
  }

  /** The root register value: `satp` on RISC-V, `CR3` on x86-64 (with `asid` as the PCID). */
  rootRegister(asid = 0): bigint {
    this.alive();
    return this.format.rootRegister(this.rootAddress, asid);
  }

  /** Returns every table page, the root included, to the frame allocator. The mapped frames stay. */
  destroy(): void {
    if (this.destroyed) return;
    this.freeTree(this.rootAddress, this.top);
    this.destroyed = true;
  }

  // ── walks ────────────────────────────────────────────────────────────────────────────

  private mapIn(table: number, level: number, u: number, end: number, pa: number, perms: PagePerms, leafLevel: number): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    let slot = table + (Math.floor(u / span) % ENTRIES) * 8;
    let added = 0;
    try {
      if (level === 0) {
        // The common case of small pages: a run of leaves, each the one before plus one
        // frame, encoded afresh only where the frame number carries into the high word.
        while (u < end) {
          const n = m.writeRun(slot, (end - u) / PAGE, f.leafLo(pa, perms, 0), f.leafHi(pa, perms, 0), f.leafStep);
          u += n * PAGE;
          pa += n * PAGE;
          slot += n * 8;
          added += n;
        }
        return;
      }
      const leafHere = level < f.pageSizes.length;
      while (u < end) {
        const blockEnd = (Math.floor(u / span) + 1) * span;
        const stop = blockEnd < end ? blockEnd : end;
        const lo = m.lo(slot);
        const hi = m.hi(slot);
        const kind = f.kind(lo, hi, level);
        if (kind === PteKind.Empty && leafHere && (leafLevel === level || (leafLevel < 0 && stop - u === span && pa % span === 0))) {
          m.write(slot, f.leafLo(pa, perms, level), f.leafHi(pa, perms, level));
          added++;
        } else {
          let child: number;
          if (kind === PteKind.Table) {
            child = f.address(lo, hi, level);
          } else if (kind === PteKind.Empty) {
            child = this.allocTable();
            m.write(slot, f.tableLo(child), f.tableHi(child));
            added++;
          } else {
            throw new KernelError('EEXIST', `${formatVa(this.vaOf(u))} is already mapped`);
          }
          this.mapIn(child, level - 1, u, stop, pa, perms, leafLevel);
        }
        pa += stop - u;
        u = stop;
        slot += 8;
      }
    } finally {
      if (added > 0) this.counts.set(table, (this.counts.get(table) ?? 0) + added);
    }
  }

  private unmapIn(table: number, level: number, u: number, end: number): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    let slot = table + (Math.floor(u / span) % ENTRIES) * 8;
    let removed = 0;
    try {
      if (level === 0) {
        for (; u < end; u += PAGE, slot += 8) {
          if (f.kind(m.lo(slot), m.hi(slot), 0) !== PteKind.Empty) {
            m.clear(slot);
            removed++;
          }
        }
        return;
      }
      while (u < end) {
        const blockStart = Math.floor(u / span) * span;
        const blockEnd = blockStart + span;
        const stop = blockEnd < end ? blockEnd : end;
        const whole = u === blockStart && stop === blockEnd;
        const lo = m.lo(slot);
        const hi = m.hi(slot);
        const kind = f.kind(lo, hi, level);
        if (kind === PteKind.Table || (kind === PteKind.Leaf && !whole)) {
          const child = kind === PteKind.Table ? f.address(lo, hi, level) : this.split(slot, level, lo, hi);
          this.unmapIn(child, level - 1, u, stop);
          if (this.counts.get(child) === 0) {
            m.clear(slot);
            this.freeTable(child);
            removed++;
          }
        } else if (kind !== PteKind.Empty && whole) {
          m.clear(slot);
          removed++;
        }
        u = stop;
        slot += 8;
      }
    } finally {
      if (removed > 0) this.counts.set(table, (this.counts.get(table) ?? 0) - removed);
    }
  }

  private protectIn(table: number, level: number, u: number, end: number, perms: PagePerms): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    let slot = table + (Math.floor(u / span) % ENTRIES) * 8;
    while (u < end) {
      const blockStart = Math.floor(u / span) * span;
      const blockEnd = blockStart + span;
      const stop = blockEnd < end ? blockEnd : end;
      const lo = m.lo(slot);
      const hi = m.hi(slot);
      const kind = f.kind(lo, hi, level);
      if (kind === PteKind.Leaf && u === blockStart && stop === blockEnd) {
        const pa = f.address(lo, hi, level);
        m.write(slot, f.leafLo(pa, perms, level), f.leafHi(pa, perms, level));
      } else if (kind === PteKind.Leaf || kind === PteKind.Table) {
        const child = kind === PteKind.Table ? f.address(lo, hi, level) : this.split(slot, level, lo, hi);
        this.protectIn(child, level - 1, u, stop, perms);
      }
      u = stop;
      slot += 8;
    }
  }

  /** Throws EEXIST if anything in the range is mapped. Visits only tables that exist. */
  private checkEmpty(table: number, level: number, u: number, end: number): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    let slot = table + (Math.floor(u / span) % ENTRIES) * 8;
    while (u < end) {
      const stop = Math.min((Math.floor(u / span) + 1) * span, end);
      const lo = m.lo(slot);
      const hi = m.hi(slot);
      const kind = f.kind(lo, hi, level);
      if (kind === PteKind.Table) {
        this.checkEmpty(f.address(lo, hi, level), level - 1, u, stop);
      } else if (kind !== PteKind.Empty) {
        const found = this.vaOf(Math.floor(u / span) * span);
        throw new KernelError('EEXIST', `${formatVa(this.vaOf(u))} is already mapped (by the ${span}-byte page at ${formatVa(found)}); unmap it first`);
      }
      u = stop;
      slot += 8;
    }
  }

  /** Throws EFAULT at the first address of the range that is not mapped. */
  private checkMapped(table: number, level: number, u: number, end: number): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    let slot = table + (Math.floor(u / span) % ENTRIES) * 8;
    while (u < end) {
      const stop = Math.min((Math.floor(u / span) + 1) * span, end);
      const lo = m.lo(slot);
      const hi = m.hi(slot);
      const kind = f.kind(lo, hi, level);
      if (kind === PteKind.Table) {
        this.checkMapped(f.address(lo, hi, level), level - 1, u, stop);
      } else if (kind !== PteKind.Leaf) {
        throw new KernelError('EFAULT', `${formatVa(this.vaOf(u))} is not mapped; map it before changing its protection`);
      }
      u = stop;
      slot += 8;
    }
  }

  /** Replaces the huge leaf in `slot` by a table of 512 next-size leaves with the same rights. */
  private split(slot: number, level: number, lo: number, hi: number): number {
    const f = this.format;
    const m = this.mem;
    const child = this.allocTable();
    const perms = f.perms(lo, hi);
    const base = f.address(lo, hi, level);
    const sub = this.spans[level - 1];
    const step = f.leafStep * (sub / PAGE);
    for (let i = 0; i < ENTRIES; ) {
      const pa = base + i * sub;
      i += m.writeRun(child + i * 8, ENTRIES - i, f.leafLo(pa, perms, level - 1), f.leafHi(pa, perms, level - 1), step);
    }
    this.counts.set(child, ENTRIES);
    m.write(slot, f.tableLo(child), f.tableHi(child));
    return child;
  }

  private collect(table: number, level: number, uBase: number, out: Mapping[]): void {
    const f = this.format;
    const m = this.mem;
    const span = this.spans[level];
    for (let i = 0; i < ENTRIES; i++) {
      const slot = table + i * 8;
      const lo = m.lo(slot);
      const hi = m.hi(slot);
      const kind = f.kind(lo, hi, level);
      const u = uBase + i * span;
      if (kind === PteKind.Table) this.collect(f.address(lo, hi, level), level - 1, u, out);
      else if (kind === PteKind.Leaf) out.push({ va: this.vaOf(u), pa: f.address(lo, hi, level), size: span, perms: f.perms(lo, hi) });
    }
  }

  private freeTree(table: number, level: number): void {
    if (level > 0) {
      const f = this.format;
      const m = this.mem;
      for (let i = 0; i < ENTRIES; i++) {
        const slot = table + i * 8;
        const lo = m.lo(slot);
        const hi = m.hi(slot);
        if (f.kind(lo, hi, level) === PteKind.Table) this.freeTree(f.address(lo, hi, level), level - 1);
      }
    }
    this.freeTable(table);
  }

  // ── bookkeeping ──────────────────────────────────────────────────────────────────────

  private allocTable(): number {
    const pa = this.frames.allocFrames(PAGE, PAGE);
    try {
      this.mem.zeroTable(pa);
    } catch (e) {
      this.frames.freeFrames(pa, PAGE);
      throw e;
    }
    this.counts.set(pa, 0);
    return pa;
  }

  private freeTable(pa: number): void {
    this.counts.delete(pa);
    this.frames.freeFrames(pa, PAGE);
  }

  /** Checks a range and returns the index of its first byte. */
  private range(va: number, size: number, op: string): number {
    if (!Number.isInteger(size) || size <= 0 || size % PAGE !== 0) {
      throw new KernelError('EINVAL', `cannot ${op} ${formatVa(va)}: size ${size} is not a positive multiple of 4 KiB`);
    }
    if (!Number.isInteger(va) || va % PAGE !== 0) {
      throw new KernelError('EINVAL', `cannot ${op} ${formatVa(va)}: the address is not 4 KiB-aligned`);
    }
    const u = vaIndex(va, this.format.vaBits);
    const last = vaIndex(va + size - 1, this.format.vaBits);
    if (u < 0 || last < 0 || last < u) {
      const half = 2 ** (this.format.vaBits - 1);
      throw new KernelError(
        'EINVAL',
        `cannot ${op} ${formatVa(va)}–${formatVa(va + size)}: ${this.format.name} addresses are canonical ${this.format.vaBits}-bit, i.e. below ${formatVa(half)} or at/above ${formatVa(-half)}, and a range cannot cross between the halves`,
      );
    }
    return u;
  }

  private vaOf(u: number): number {
    return u >= this.span / 2 ? u - this.span : u;
  }

  private flush(va: number, size: number): void {
    const tlb = this.tlb;
    if (tlb === undefined) return;
    if (size <= FLUSH_PAGES * PAGE) {
      for (let off = 0; off < size; off += PAGE) tlb.flushTlb(va + off);
    } else {
      tlb.flushTlb();
    }
  }

  private alive(): void {
    if (this.destroyed) throw new KernelError('EINVAL', 'this address space has been destroyed; create a new one');
  }
}
