import type { CliContext, Command } from '../command.js';
import type { CreateDomainArgs } from '../create-domain.js';

const HELP = `Usage: colo-xl [-N] create <ConfigFile> [options] [key=value...]

Create a domain from an xl.cfg file. The dry run (global -N, or -n) prints the libxl domain
configuration as JSON, as Xen 4.17's \`xl -N create\` does. On a Xen host the domain is built by
Xen's libxenlight from that configuration and unpaused; colo-xl leaves no daemon behind to act
on its shutdown (on_poweroff, on_reboot, on_crash are xl's daemon's work).

Options:
 -n, --dryrun        Dry run (same as the global -N).
 -q, --quiet         Do not print "Parsing config from ...".
 -f FILE, --defconfig=FILE
                     Read the configuration from FILE.
 -h, --help          Print this help.
 -p                  Leave the domain paused after it is created.
 -d                  Print the JSON configuration on stderr too.
 -c -e -F -V -A      Accepted for compatibility with xl; colo-xl attaches no console or
                     viewer and runs no daemon.
key=value            Appended to the configuration as extra lines (like xl).
`;

const FLAGS_WITHOUT_ARG = 'FnqpcdeVA';

type CreateArgs = CreateDomainArgs;

// main_create's option handling: a leading file name, getopt "Fnqf:pcdeVA" up to the first
// other word, then key=value words and the file name.
function parseArgs(ctx: CliContext, argv: string[]): CreateArgs | number {
  const a: CreateArgs = { filename: null, extra: null, dryRun: ctx.dryRun, quiet: false, debug: false, paused: false };
  let args = argv;
  if (args[0] !== undefined && !args[0].startsWith('-') && !args[0].includes('=')) {
    a.filename = args[0];
    args = args.slice(1);
  }
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const [name, val] = w.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (name === 'dryrun') a.dryRun = true;
      else if (name === 'quiet') a.quiet = true;
      else if (name === 'help') return helpExit(ctx, 0);
      else if (name === 'defconfig') {
        const v = val ?? args[++i];
        if (v === undefined) return notSupported(ctx, 'f');
        a.filename = v;
      } else if (name !== 'vncviewer' && name !== 'vncviewer-autopass' && name !== 'ignore-global-affinity-masks') {
        // getopt_long leaves optopt at 0 for an unknown long option, and xl prints it as a char.
        return notSupported(ctx, '\0');
      }
      continue;
    }
    if (!w.startsWith('-') || w === '-') {
      // xl's getopt stops at the first word that is not an option.
      rest.push(...args.slice(i));
      break;
    }
    for (let j = 1; j < w.length; j++) {
      const ch = w[j]!;
      if (ch === 'f') {
        const v = j + 1 < w.length ? w.slice(j + 1) : args[++i];
        if (v === undefined) return notSupported(ctx, 'f');
        a.filename = v;
        break;
      }
      if (ch === 'h') return helpExit(ctx, 0);
      if (!FLAGS_WITHOUT_ARG.includes(ch)) return notSupported(ctx, ch);
      if (ch === 'n') a.dryRun = true;
      if (ch === 'q') a.quiet = true;
      if (ch === 'd') a.debug = true;
      if (ch === 'p') a.paused = true;
    }
  }
  for (const w of rest) {
    if (w.includes('=')) a.extra = (a.extra ?? '') + w + '\n';
    else if (a.filename === null) a.filename = w;
    else return helpExit(ctx, 2);
  }
  return a;
}

// xl's SWITCH_FOREACH_OPT on getopt's '?'
function notSupported(ctx: CliContext, opt: string): number {
  ctx.io.err(`option \`${opt}' not supported.\n`);
  return 2;
}

function helpExit(ctx: CliContext, status: number): number {
  ctx.io.out(HELP);
  return status;
}

export const create: Command = {
  name: 'create',
  usage: '<ConfigFile> [options] [vars]',
  summary: 'Create a domain from config file <filename> (dry run: -N)',
  async run(ctx, argv) {
    const args = parseArgs(ctx, argv);
    if (typeof args === 'number') return args;
    // Loaded here so that other commands do not pay for the config parser at start-up.
    const { createDomainDryRun } = await import('../create-domain.js');
    return createDomainDryRun(ctx, args);
  },
};
