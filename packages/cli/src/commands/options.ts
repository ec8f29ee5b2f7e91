import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with its errors turned into one line that names the command and the way out. */
export function options(args: string[], spec: Options, command: string) {
  try {
    return parseArgs({ args, options: spec, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`uk ${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/, '')} (see uk ${command} --help)`);
  }
}
