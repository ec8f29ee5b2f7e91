#!/usr/bin/env node
import { main } from './main.js';

// A reader that goes away (uk run app | head) ends our output, not the guest or the process.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A guest's host resources (sockets, files) are closed by now; do not wait on stragglers.
  setImmediate(() => process.exit(code));
});
