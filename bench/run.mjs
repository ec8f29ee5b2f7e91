#!/usr/bin/env node
// Runs one benchmark (or all) from bench/<name>/index.mjs. Build first: pnpm build.
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const names = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${here}${d.name}/index.mjs`))
  .map((d) => d.name);
const wanted = process.argv.slice(2);
if (wanted.includes('--help') || wanted.includes('-h')) {
  console.log(`usage: pnpm bench [${names.join('|')}] ...\nRuns the named benchmarks (all when none is named); each prints a table.`);
  process.exit(0);
}
const unknown = wanted.filter((w) => !names.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; there are: ${names.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : names) {
  console.log(`\n## bench/${name}\n`);
  const r = spawnSync(process.execPath, [`${here}${name}/index.mjs`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
