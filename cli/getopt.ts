import type { Io } from './io.js';

/** One xl subcommand's entry in xl_cmdtable.c, as far as its help text needs it. */
export interface XlHelp {
  name: string;
  /** The description, printed with a full stop after it. */
  summary: string;
  usage: string;
  /** The option text, printed under "Options:" when present. */
  options?: string;
  /** cmd->modifies: the help shows `f` among the global options. */
  modifies?: boolean;
  /** cmd->can_dryrun: the help shows `N`. */
  canDryrun?: boolean;
}

// help() in xl.c, for one command
export function printXlHelp(io: Io, h: XlHelp): void {
  const globals = `-vtT${h.modifies ? 'f' : ''}${h.canDryrun ? 'N' : ''}`;
  let text = `Usage: xl [${globals}] ${h.name} ${h.usage}\n\n${h.summary}.\n\n`;
  if (h.options) text += `Options:\n\n${h.options}\n`;
  io.out(text);
}

/** A long option: its name, the letter getopt_long returns for it, whether it takes a value. */
export interface LongOption {
  name: string;
  val: string;
  hasArg?: boolean;
}

export interface ParsedOptions {
  options: { opt: string; arg?: string }[];
  /** The words after the options (getopt's argv + optind). */
  rest: string[];
}

// COMMON_LONG_OPTS in xl.h
const HELP: LongOption = { name: 'help', val: 'h' };

/**
 * getopt_long with a leading '+' (what SWITCH_FOREACH_OPT passes): options end at the first
 * word that is not one. Returns the option letter, or '?' with the offending letter (NUL for an
 * unknown or ambiguous long option) the way glibc reports it through optopt.
 */
function* getoptLong(
  argv: string[],
  optstring: string,
  longopts: readonly LongOption[],
): Generator<{ opt: string; optopt?: string; arg?: string }, number> {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    i++;
    if (a.startsWith('--')) {
      const [name, value] = splitOnce(a.slice(2), '=');
      const exact = longopts.find((o) => o.name === name);
      const prefixed = longopts.filter((o) => o.name.startsWith(name));
      const opt = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (!opt) {
        yield { opt: '?', optopt: '\0' };
        continue;
      }
      if (opt.hasArg) {
        const arg = value ?? argv[i++];
        if (arg === undefined) yield { opt: '?', optopt: opt.val };
        else yield { opt: opt.val, arg };
      } else if (value !== undefined) {
        yield { opt: '?', optopt: opt.val };
      } else {
        yield { opt: opt.val };
      }
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const ch = a[k]!;
      const at = optstring.indexOf(ch);
      if (at < 0 || ch === ':' || ch === '+') {
        yield { opt: '?', optopt: ch };
        continue;
      }
      if (optstring[at + 1] !== ':') {
        yield { opt: ch };
        continue;
      }
      const arg = k + 1 < a.length ? a.slice(k + 1) : argv[i++];
      if (arg === undefined) yield { opt: '?', optopt: ch };
      else yield { opt: ch, arg };
      break;
    }
  }
  return i;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

/**
 * def_getopt in xl_utils.c: `-h`/`--help` prints the help (status 0), an unknown option stops
 * with status 2, and too few words after the options prints the requirement and the help
 * (status 2). Returns the status to exit with, or what was parsed.
 */
export function xlGetopt(
  io: Io,
  argv: string[],
  optstring: string,
  longopts: readonly LongOption[],
  help: XlHelp,
  reqargs: number,
): ParsedOptions | number {
  const options: ParsedOptions['options'] = [];
  const it = getoptLong(argv, optstring, [...longopts, HELP]);
  let step = it.next();
  for (; !step.done; step = it.next()) {
    const { opt, optopt, arg } = step.value;
    if (opt === 'h' || (opt === '?' && optopt === 'h')) {
      printXlHelp(io, help);
      return 0;
    }
    if (opt === '?') {
      io.err(`option \`${optopt}' not supported.\n`);
      return 2;
    }
    options.push(arg === undefined ? { opt } : { opt, arg });
  }
  const rest = argv.slice(step.value);
  if (rest.length < reqargs) {
    io.err(`'xl ${help.name}' requires at least ${reqargs} argument${reqargs > 1 ? 's' : ''}.\n\n`);
    printXlHelp(io, help);
    return 2;
  }
  return { options, rest };
}
