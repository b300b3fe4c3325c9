// colo-xl from source, for tests that need it as a process: `node --import tsx test/support/cli-entry.ts ...`
// (see CLI_ENTRY in cli.ts; bin/colo-xl.js is the same over dist/).
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
