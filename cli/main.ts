import type { CliContext, Command } from './command.js';
import { commands } from './commands.js';
import { printXlHelp } from './getopt.js';
import { processIo, type Io } from './io.js';

/** XenstoreUnavailableError (xenstore/open.ts), XenstoreChoiceError (libxl-session.ts). */
const STORE_ERRORS = new Set(['XenstoreUnavailableError', 'XenstoreChoiceError']);

async function findCommand(name: string): Promise<Command | undefined> {
  return commands.find((c) => c.name === name)?.load();
}

async function printHelp(io: Io): Promise<void> {
  io.out('Usage colo-xl [-vfN] <subcommand> [args]\n\ncolo-xl full list of subcommands:\n\n');
  for (const c of await Promise.all(commands.map((e) => e.load()))) io.out(` ${c.name.padEnd(20)}${c.summary}\n`);
}

/**
 * The `colo-xl` entry point: xl's global options (`-v`, `-N`, `-f`, and the accepted but unused
 * `-t`/`-T`), then a subcommand. Returns the exit status.
 */
export async function main(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ctx: CliContext = { io, dryRun: false, verbose: 0, force: false, env };
  let i = 0;
  // Like xl's getopt("+vftTN"): option letters may be bundled, scanning stops at the first word.
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (const ch of a.slice(1)) {
      if (ch === 'v') ctx.verbose++;
      else if (ch === 'N') ctx.dryRun = true;
      else if (ch === 'f') ctx.force = true;
      else if (ch === 't' || ch === 'T') continue;
      else {
        io.err(`colo-xl: invalid option -- '${ch}'\n`);
        await printHelp(io);
        return 1;
      }
    }
  }
  const name = argv[i];
  const about = name === 'help' ? argv[i + 1] : undefined;
  const aboutCmd = about === undefined ? undefined : await findCommand(about);
  if (aboutCmd?.help) {
    printXlHelp(io, aboutCmd.help);
    return 0;
  }
  // colo-xl's own commands (and create, whose help is its own text) print it for --help
  if (aboutCmd) return aboutCmd.run(ctx, ['--help']);
  if (name === undefined || name === 'help' || name === '--help') {
    await printHelp(io);
    return name === undefined ? 1 : 0;
  }
  const cmd = await findCommand(name);
  if (!cmd) {
    io.err('command not implemented\n');
    return 1;
  }
  try {
    return await cmd.run(ctx, argv.slice(i + 1));
  } catch (e) {
    // No xenstore to work on is the host's state, not a crash: say what was tried. Told apart by
    // name so that commands which never open a store do not load the xenstore modules.
    if (!(e instanceof Error) || !STORE_ERRORS.has(e.name)) throw e;
    io.err(`colo-xl: ${e.message}\n`);
    return 1;
  }
}
