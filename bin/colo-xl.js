#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A closed pipe (`colo-xl ... | head`) ends the output, as it does for xl; it is not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
