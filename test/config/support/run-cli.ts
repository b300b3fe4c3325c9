/**
 * Runs colo-xl's `create` / `devmodel-args` the way cli/main.ts does (global -N, then the
 * command), without loading the other commands: these tests then depend on this area only.
 */
import type { Command } from '../../../cli/command.js';
import { create } from '../../../cli/commands/create.js';
import { devmodelArgs } from '../../../cli/commands/devmodel-args.js';
import { CapturedIo } from '../../../cli/io.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  status: number;
}

const COMMANDS: Command[] = [create, devmodelArgs];

export async function runColoXl(argv: string[]): Promise<CliResult> {
  let dryRun = false;
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) if (argv[i]!.includes('N')) dryRun = true;
  const cmd = COMMANDS.find((c) => c.name === argv[i]);
  if (!cmd) throw new Error(`runColoXl: no command in ${argv.join(' ')}`);
  const io = new CapturedIo();
  const status = await cmd.run({ io, dryRun, verbose: 0, force: false, env: {} }, argv.slice(i + 1));
  return { stdout: io.stdout, stderr: io.stderr, status };
}
