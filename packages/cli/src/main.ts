import { buildCommand } from './commands/build.js';
import { dtbCommand } from './commands/dtb.js';
import { HELP, VERSION } from './commands/help.js';
import { inspectCommand } from './commands/inspect.js';
import { newCommand } from './commands/new.js';
import { runCommand } from './commands/run.js';
import { UsageError } from './errors.js';

/** Runs the uk command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(rest[0] && HELP[rest[0]] ? HELP[rest[0]] : HELP.main);
        return 0;
      case '-v':
      case '--version':
        process.stdout.write(`uk ${VERSION}\n`);
        return 0;
      case 'new':
        return newCommand(rest);
      case 'build':
        return await buildCommand(rest);
      case 'run':
        return await runCommand(rest);
      case 'inspect':
        return inspectCommand(rest);
      case 'dtb':
        return dtbCommand(rest);
      default:
        throw new UsageError(`uk: unknown command ${command}; the commands are new, build, run, inspect and dtb (see uk --help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`uk: internal error: ${(e as Error).stack ?? e}\nThis is a bug in uk; please report it with the command you ran.\n`);
    return 1;
  }
}
