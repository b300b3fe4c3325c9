/**
 * `colo-xl` run from the sources, for tests that need it as a process (the receiver of
 * `remus -c` is started by a shell). `migrate-receive --colo` goes straight to the COLO entry
 * point (runMigrateReceive), which the registered migrate-receive command delegates to.
 */
import { runMigrateReceive } from '../../cli/commands/migrate-receive-colo.js';
import { processIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';

const argv = process.argv.slice(2);
if (argv[0] === 'migrate-receive' && argv.includes('--colo')) {
  const ctx = { io: processIo, dryRun: false, verbose: 0, force: false, env: process.env };
  process.exitCode = await runMigrateReceive(ctx, argv.slice(1));
} else {
  process.exitCode = await main(argv);
}
