/** A plain-text table: columns sized to their widest cell, numbers aligned right. */
export function table(header: string[], rows: Array<Array<string | number>>, footer?: Array<string | number>): string {
  const all = [header, ...rows.map((r) => r.map(String)), ...(footer ? [footer.map(String)] : [])];
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || /^[\d.,]+( ?[%A-Za-z]+)?$/.test(String(r[c]))));
  const width = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric[c] ? cell.padStart(width[c]) : cell.padEnd(width[c])))
      .join('  ')
      .trimEnd();
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule, ...rows.map((r) => line(r.map(String)))];
  if (footer) out.push(rule, line(footer.map(String)));
  return `${out.join('\n')}\n`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
