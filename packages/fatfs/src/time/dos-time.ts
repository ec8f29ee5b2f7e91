/**
 * FAT's timestamps (Microsoft FAT specification, §6.3): a date (years since 1980, month,
 * day), a time in 2-second steps, and for the creation time a count of 10 ms. They carry no
 * time zone; uk reads and writes them as UTC, as Linux does unless told otherwise.
 */
export interface DosStamp {
  date: number;
  time: number;
  /** 0..199: 10 ms units past `time` (creation time only). */
  tenths: number;
}

const MIN_MS = Date.UTC(1980, 0, 1);
const MAX_MS = Date.UTC(2107, 11, 31, 23, 59, 58);

/** The stamp of a moment, clamped to the years FAT can hold (1980-2107). */
export function toDosStamp(ms: number): DosStamp {
  const t = Math.min(Math.max(Number.isFinite(ms) ? ms : MIN_MS, MIN_MS), MAX_MS);
  const d = new Date(t);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const sec = d.getUTCSeconds();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (sec >> 1);
  const tenths = (sec & 1) * 100 + Math.floor(d.getUTCMilliseconds() / 10);
  return { date, time, tenths };
}

/** The moment a stamp names (ms since the epoch); 0 for a zero or invalid date. */
export function fromDosStamp(date: number, time: number, tenths = 0): number {
  if (date === 0) return 0;
  const day = date & 0x1f;
  const month = (date >> 5) & 0x0f;
  const year = 1980 + (date >> 9);
  if (day === 0 || month === 0 || month > 12) return 0;
  const h = time >> 11;
  const m = (time >> 5) & 0x3f;
  const s = (time & 0x1f) * 2;
  const extra = tenths <= 199 ? tenths * 10 : 0;
  return Date.UTC(year, month - 1, day, Math.min(h, 23), Math.min(m, 59), Math.min(s, 59)) + extra;
}
