import { existsSync, readFileSync } from 'node:fs';
import { ImageError, readImage } from '@uk/vmm';
import type { Manifest } from '../build/bundle.js';
import { UsageError } from '../errors.js';
import { formatBytes, table } from '../text/table.js';
import { HELP } from './help.js';
import { options } from './options.js';

const levelNames = ['early', 'platform', 'memory', 'paging', 'scheduler', 'drivers', 'filesystems', 'network', 'application'];

export function inspectCommand(args: string[]): number {
  const { values, positionals } = options(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, 'inspect');
  if (values.help) {
    process.stdout.write(HELP.inspect);
    return 0;
  }
  const path = positionals[0];
  if (path === undefined) throw new UsageError('uk inspect: which image? e.g. uk inspect apps/hello/dist/hello.uk.js');
  let image: ReturnType<typeof readImage>;
  try {
    image = readImage(path);
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(`uk inspect: ${e.message}`);
    throw e;
  }
  const manifestPath = path.replace(/\.js$/, '.json');
  if (!existsSync(manifestPath)) throw new UsageError(`uk inspect: ${manifestPath} is missing: rebuild the image with uk build to get its manifest`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (e) {
    throw new UsageError(`uk inspect: ${manifestPath} is not valid JSON (${(e as Error).message})`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
    return 0;
  }
  const sha = process.getBuiltinModule('node:crypto').createHash('sha256').update(image.bytes).digest('hex');
  const versions = new Map(m.packages.map((p) => [p.name, p.version]));
  process.stdout.write(`${m.app.name} ${m.app.version}: ${path}, ${m.bytes} bytes (${formatBytes(m.bytes)})\n`);
  process.stdout.write(`sha256 ${sha}${sha === m.sha256 ? ' (matches the manifest)' : ' (DOES NOT match the manifest: the image changed after uk build)'}\n\n`);
  process.stdout.write(
    table(
      ['component', 'package', 'version', 'init level', 'provides'],
      m.components.map((c) => [c.name, c.package, versions.get(c.package) ?? '', levelNames[c.level] ?? String(c.level), c.provides.join(', ')]),
    ),
  );
  process.stdout.write('\n');
  process.stdout.write(
    table(
      ['package', 'version', 'bytes', 'share'],
      m.packages.map((p) => [p.name, p.version, p.bytes, `${((100 * p.bytes) / m.bytes).toFixed(1)}%`]),
      ['total', '', m.bytes, '100%'],
    ),
  );
  return sha === m.sha256 ? 0 : 1;
}
