import { parseArgs } from 'node:util';
import { findApp } from '../build/app.js';
import { buildApp } from '../build/bundle.js';
import { formatBytes, table } from '../text/table.js';
import { HELP } from './help.js';
import { options } from './options.js';

export async function buildCommand(args: string[]): Promise<number> {
  const { values, positionals } = options(args, {
    'out-dir': { type: 'string', short: 'o' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, 'build');
  if (values.help) {
    process.stdout.write(HELP.build);
    return 0;
  }
  const app = findApp(positionals[0] ?? '.');
  process.stderr.write(`building ${app.name}...\n`);
  const r = await buildApp(app, values['out-dir'] as string | undefined);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r.manifest, null, 2)}\n`);
    return 0;
  }
  const m = r.manifest;
  process.stdout.write(
    table(
      ['package', 'version', 'bytes'],
      m.packages.map((p) => [p.name, p.version, p.bytes]),
      ['total', '', m.bytes],
    ),
  );
  process.stdout.write(`\n${r.imagePath}: ${m.bytes} bytes (${formatBytes(m.bytes)}), ${m.components.length} components, built in ${r.ms.toFixed(0)} ms\n`);
  return 0;
}

export { parseArgs };
