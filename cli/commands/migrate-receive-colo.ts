/**
 * `colo-xl migrate-receive`: xl's main_migrate_receive (tools/xl/xl_migrate.c), options and checks
 * byte for byte. `--colo` runs the COLO secondary (lib/colo/receive.ts); the plain and Remus
 * streams are another module's, or refused (see plainReceive).
 */
import type { Io } from '../io.js';
import type { CliContext, Command } from '../command.js';
import { printXlHelp, xlGetopt, type LongOption, type XlHelp } from '../getopt.js';

export const migrateReceiveHelp: XlHelp = {
  name: 'migrate-receive',
  summary: 'Restore a domain from a saved state',
  usage: '- for internal use only',
  modifies: true,
};

// xl's opts[]: the values are 0x100.. (they print as NUL in "option `%c' not supported")
const LONG: LongOption[] = [
  { name: 'colo', val: '\u0100' },
  { name: 'coloft-script', val: '\u0200', hasArg: true },
  { name: 'userspace-colo-proxy', val: '\u0300' },
];

export interface MigrateReceiveArgs {
  debug: boolean;
  daemonize: boolean;
  monitor: boolean;
  pauseAfterMigration: boolean;
  checkpointed: 'none' | 'remus' | 'colo';
  script: string | null;
  userspaceColoProxy: boolean;
}

/** `%c` of an int: only the low byte is printed. */
function charOfVal(io: Io): Io {
  return { out: (t) => io.out(t), err: (t) => io.err(t.replace(/[\u0100-\uffff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0xff))) };
}

// main_migrate_receive's option loop and its "no words" check; a number is the exit status
export function parseMigrateReceive(io: Io, argv: string[]): MigrateReceiveArgs | number {
  const parsed = xlGetopt(charOfVal(io), argv, 'Fedrp', LONG, migrateReceiveHelp, 0);
  if (typeof parsed === 'number') return parsed;
  const a: MigrateReceiveArgs = {
    debug: false,
    daemonize: true,
    monitor: true,
    pauseAfterMigration: false,
    checkpointed: 'none',
    script: null,
    userspaceColoProxy: false,
  };
  for (const { opt, arg } of parsed.options) {
    if (opt === 'F') a.daemonize = false;
    else if (opt === 'e') {
      a.daemonize = false;
      a.monitor = false;
    } else if (opt === 'd') a.debug = true;
    else if (opt === 'r') a.checkpointed = 'remus';
    else if (opt === '\u0100') a.checkpointed = 'colo';
    else if (opt === '\u0200') a.script = arg!;
    else if (opt === '\u0300') a.userspaceColoProxy = true;
    else if (opt === 'p') a.pauseAfterMigration = true;
  }
  if (parsed.rest.length !== 0) {
    // help() prints to stdout; the status is EXIT_FAILURE
    printXlHelp(io, migrateReceiveHelp);
    return 1;
  }
  return a;
}

/** What colo-xl does with a stream that is not COLO. */
export type PlainReceive = (cli: CliContext, a: MigrateReceiveArgs) => Promise<number>;

const notHere: PlainReceive = async (cli, a) => {
  cli.io.err(
    a.checkpointed === 'remus'
      ? 'colo-xl: a Remus stream carries memory checkpoints and needs a Xen hypervisor; colo-xl receives COLO (--colo) only\n'
      : 'colo-xl: plain migration is not available in this colo-xl; use --colo for COLO disk replication\n',
  );
  return 1;
};

/** The whole command; `plain` handles what is not `--colo`. */
export async function runMigrateReceive(cli: CliContext, argv: string[], plain: PlainReceive = notHere): Promise<number> {
  const a = parseMigrateReceive(cli.io, argv);
  if (typeof a === 'number') return a;
  if (a.checkpointed !== 'colo') return plain(cli, a);
  const [{ migrateReceiveColo }, { openCliXenstore }] = await Promise.all([import('../../lib/colo/receive.js'), import('../libxl-session.js')]);
  try {
    return await migrateReceiveColo({
      openXenstore: () => openCliXenstore(cli),
      io: cli.io,
      env: cli.env,
      debug: a.debug || cli.verbose > 0,
      coloProxyScript: a.script,
      userspaceColoProxy: a.userspaceColoProxy,
      // xl's migrate_receive reads its stdin and answers on its stdout
      input: process.stdin,
      output: process.stdout,
    });
  } finally {
    // whatever is left of the stream is not read: let the process end
    process.stdin.destroy();
  }
}

export const migrateReceiveColoCommand: Command = {
  name: 'migrate-receive',
  usage: migrateReceiveHelp.usage,
  summary: 'Receive a domain: with --colo, the COLO secondary for colo-xl remus -c',
  help: migrateReceiveHelp,
  run: (cli, argv) => runMigrateReceive(cli, argv),
};
