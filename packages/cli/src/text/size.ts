import { UsageError } from '../errors.js';

/** A memory size as QEMU's -m takes it: a bare number is MiB; K, M, G suffixes are binary. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+)([KkMmGg]i?[Bb]?)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${option} ${text}: expected a size such as 64M, 512M or 1G`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'M')[0].toUpperCase();
  const bytes = n * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3);
  if (bytes < 1024 ** 2 || bytes > 16 * 1024 ** 3) throw new UsageError(`${option} ${text}: memory must be between 1M and 16G`);
  if (bytes % 4096 !== 0) throw new UsageError(`${option} ${text}: memory must be a whole number of 4 KiB pages`);
  return bytes;
}
