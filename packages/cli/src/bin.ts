// The uk command's entry: kept small so that a `uk run` can start its vCPU thread before the
// rest of the command has loaded.
const argv = process.argv.slice(2);

// A reader that goes away (uk run app | head) ends our output, not the guest or the process.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

if (argv[0] === 'run' && !argv.some((a, i) => a === '--mode=inline' || (a === 'inline' && argv[i - 1] === '--mode'))) {
  const { prestartVcpu } = await import('@uk/vmm/prestart');
  prestartVcpu();
}
const { main } = await import('./main.js');
const code = await main(argv);
process.exitCode = code;
// A guest's host resources (sockets, files) are closed by now; do not wait on stragglers.
setImmediate(() => process.exit(code));

export {};
