import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { FdtError, parseFdt, toDts } from '@uk/fdt';
import { buildMachineDtb } from '@uk/vmm';
import { UsageError } from '../errors.js';
import { parseSize } from '../text/size.js';
import { HELP } from './help.js';
import { options } from './options.js';

export function dtbCommand(args: string[]): number {
  const { values, positionals } = options(args, {
    mem: { type: 'string', short: 'm', default: '64M' },
    output: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
  }, 'dtb');
  if (values.help) {
    process.stdout.write(HELP.dtb);
    return 0;
  }
  const path = positionals[0];
  let bytes: Uint8Array;
  if (path === undefined) {
    bytes = buildMachineDtb({ memBytes: parseSize(values.mem as string, '--mem'), bootargs: '', virtio: [], reserved: [] });
    if (values.output !== undefined) {
      writeFileSync(values.output as string, bytes);
      return 0;
    }
  } else {
    if (!existsSync(path)) throw new UsageError(`uk dtb: ${path} does not exist: expected a device tree blob (.dtb)`);
    if (statSync(path).isDirectory()) throw new UsageError(`uk dtb: ${path} is a directory: expected a device tree blob (.dtb)`);
    bytes = new Uint8Array(readFileSync(path));
  }
  try {
    process.stdout.write(toDts(parseFdt(bytes)));
  } catch (e) {
    if (e instanceof FdtError) throw new UsageError(`uk dtb: ${path ?? 'machine'}: not a valid device tree blob: ${e.message} [${e.code}]`);
    throw e;
  }
  return 0;
}
