/**
 * The address-translation cache: one small direct-mapped table per page size, so a 2 MiB or
 * 1 GiB translation takes one entry and `flush(va)` finds it from any address inside it.
 * Entries hold the leaf's raw flag byte; whether it permits an access is decided on every
 * hit, so changing privilege, SUM or MXR needs no flush. Typed arrays only: no objects and
 * no Map on the hot path.
 */
export class Tlb {
  /** Per level: the virtual page number at that level's page size, or -1 when empty. */
  readonly tags: Float64Array[] = [];
  /** Per level: physical address of the page. */
  readonly bases: Float64Array[] = [];
  /** Per level: the leaf PTE's low byte (V R W X U G A D). */
  readonly flags: Uint8Array[] = [];
  /** Per level: slot mask (entries - 1). */
  readonly masks: number[] = [];
  readonly enabled: boolean;

  /** `entries` is the level-0 size (a power of two, 0 disables the cache); larger pages get fewer. */
  constructor(entries: number) {
    if (entries !== 0 && (entries & (entries - 1)) !== 0) throw new RangeError(`TLB entries must be a power of two, not ${entries}`);
    this.enabled = entries > 0;
    for (let level = 0; level < 4; level++) {
      const n = Math.max(1, entries >> (2 * level));
      this.tags.push(new Float64Array(n).fill(-1));
      this.bases.push(new Float64Array(n));
      this.flags.push(new Uint8Array(n));
      this.masks.push(n - 1);
    }
  }

  fill(level: number, vpn: number, base: number, flags: number): void {
    if (!this.enabled) return;
    const slot = vpn & this.masks[level];
    this.tags[level][slot] = vpn;
    this.bases[level][slot] = base;
    this.flags[level][slot] = flags;
  }

  /** Drops the entry of each page size that covers the address index `u`. */
  invalidate(u: number): void {
    for (let level = 0; level < 4; level++) {
      const vpn = Math.floor(u / 2 ** (12 + 9 * level));
      const slot = vpn & this.masks[level];
      if (this.tags[level][slot] === vpn) this.tags[level][slot] = -1;
    }
  }

  clear(): void {
    for (const t of this.tags) t.fill(-1);
  }
}
