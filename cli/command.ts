import type { XlHelp } from './getopt.js';
import type { Io } from './io.js';
import type { EmbeddedStores } from '../lib/xenstore/server/stores.js';

/** What xl's global options (before the command name) leave for a command. */
export interface CliContext {
  io: Io;
  /** `-N`: parse and print, touch nothing (xl's dryrun_only). */
  dryRun: boolean;
  /** `-v`, repeatable. */
  verbose: number;
  /** `-f`: force (xl's force_execution). */
  force: boolean;
  env: NodeJS.ProcessEnv;
  /** Notices already printed in this run, so each is said once (see openCliXenstore). */
  said?: Set<string>;
  /** The embedded stores this run opened (see openCliXenstore): one store per journal, shared. */
  xenstores?: EmbeddedStores;
}

export interface Command {
  name: string;
  /** One line: the arguments, as xl's help shows them. */
  usage: string;
  summary: string;
  /** For commands xl also has: its help entry, so `help <command>` prints what xl prints. */
  help?: XlHelp;
  /**
   * Returns the exit status. `argv` excludes the command name. The xl-compatible commands parse
   * it with xl's getopt (getopt.ts); colo-xl's own ones with runCommandLine (options.ts), which
   * also answers `--help` (and so `colo-xl help <command>`).
   */
  run(ctx: CliContext, argv: string[]): Promise<number>;
}
