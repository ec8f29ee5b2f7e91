/**
 * Notification suppression by index (virtio 1.2 §2.7.7.2 and §2.7.10.1). The other side asks
 * to be told once the index passes `event`; whoever moved the index from `old` to `next`
 * owes a notification if `event` lies in [old, next). Indexes are free-running 16-bit
 * counters, so the comparison is done modulo 2^16 and survives wrap-around.
 */
export function needEvent(event: number, next: number, old: number): boolean {
  return ((next - event - 1) & 0xffff) < ((next - old) & 0xffff);
}

/** Distance from `from` to `to` on a free-running 16-bit index. */
export function indexDistance(from: number, to: number): number {
  return (to - from) & 0xffff;
}
