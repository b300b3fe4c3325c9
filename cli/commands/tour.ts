import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDiskSpec, DiskSpecError } from '../../lib/xlu/disk/parse.js';
import { diskToJson } from '../../lib/libxl/json-disk.js';
import type { CliContext, Command } from '../command.js';
import { ColoXlError } from '../../lib/errors.js';
import { CliUsageError, runCommandLine } from '../options.js';

/** examples/ at the package root, from cli/commands (source) or dist/cli/commands. */
function examplesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      readdirSync(join(dir, 'examples'));
      return join(dir, 'examples');
    } catch {
      // keep climbing
    }
  }
  throw new ColoXlError('TOUR_NO_EXAMPLES', 'examples/ not found next to the colo-xl package; name a directory of .disks files');
}

const HELP = `Usage: colo-xl tour [dir]

Parse every disk spec in dir/*.disks (default: the package's examples/), one per line, the way
\`xl -N block-attach' does, and print its libxl JSON or libxlu's error report.
`;

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  return runCommandLine(ctx, { name: 'tour', help: HELP, options: {} }, argv, async ({ positionals }) => {
    if (positionals.length > 1) throw new CliUsageError(`unexpected argument ${positionals[1]}`);
    return tourOf(ctx, positionals[0] ?? examplesDir());
  });
}

/**
 * A short tour: every disk spec in examples/*.disks (one per line, `#` comments), parsed the way
 * `xl -N block-attach` parses it, with its libxl JSON or libxlu's error.
 */
async function tourOf(ctx: CliContext, dir: string): Promise<number> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.disks')).sort();
  let failures = 0;
  for (const f of files) {
    ctx.io.out(`# ${f}\n`);
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      ctx.io.out(`\n$ colo-xl -N block-attach 0 '${line}'\n`);
      try {
        ctx.io.out(`disk: ${diskToJson(parseDiskSpec(line))}`);
      } catch (e) {
        if (!(e instanceof DiskSpecError)) throw e;
        failures++;
        ctx.io.out(e.report);
      }
    }
    ctx.io.out('\n');
  }
  ctx.io.out(`${files.length} example files; ${failures} specs refused (as xl would refuse them)\n`);
  return 0;
}

export const tour: Command = { name: 'tour', usage: '[dir]', summary: 'Parse the example disk specs and print their libxl JSON', run };
