import type { Io } from './io.js';

/** What one xl subcommand's help says (xl_cmdtable.c): its summary, usage and option text. */
export interface XlHelp {
  name: string;
  summary: string;
  usage: string;
  options?: string;
}

// help() in xl.c: the usage line, then the summary and the options, if any.
export function printXlHelp(io: Io, h: XlHelp, write: 'out' | 'err' = 'out'): void {
  let text = `Usage: xl [-v] ${h.name} ${h.usage}\n\n${h.summary}.\n`;
  if (h.options) text += `\nOptions:\n\n${h.options}\n`;
  io[write](text);
}

export interface ParsedOptions {
  /** Option letters seen, with their argument when they take one. */
  options: { opt: string; arg?: string }[];
  rest: string[];
}

/**
 * def_getopt in xl_utils.c: getopt_long with `-h`/`--help`, an unknown option stops xl with
 * status 2, and too few positional arguments prints the requirement and the help (status 2).
 * Returns the exit status to stop with, or the parsed options.
 */
export function xlGetopt(
  io: Io,
  argv: string[],
  optstring: string,
  longopts: Record<string, string>,
  help: XlHelp,
  reqargs: number,
): ParsedOptions | number {
  const options: ParsedOptions['options'] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const name = a.slice(2).split('=')[0]!;
      const letter = name === 'help' ? 'h' : longopts[name];
      if (letter === undefined) {
        io.err(`option \`${'\0'}' not supported.\n`.replace('\0', ''));
        return 2;
      }
      if (letter === 'h') {
        printXlHelp(io, help);
        return 0;
      }
      options.push({ opt: letter });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const ch = a[k]!;
        const at = optstring.indexOf(ch);
        if (ch === 'h') {
          printXlHelp(io, help);
          return 0;
        }
        if (at < 0 || ch === ':') {
          io.err(`option \`${ch}' not supported.\n`);
          return 2;
        }
        if (optstring[at + 1] === ':') {
          const arg = k + 1 < a.length ? a.slice(k + 1) : argv[++i];
          if (arg === undefined) {
            io.err(`option \`${ch}' not supported.\n`);
            return 2;
          }
          options.push({ opt: ch, arg });
          break;
        }
        options.push({ opt: ch });
      }
      continue;
    }
    // GNU getopt permutes: non-options are collected and scanning goes on.
    rest.push(a);
  }
  rest.push(...argv.slice(i));
  if (rest.length < reqargs) {
    io.err(`'xl ${help.name}' requires at least ${reqargs} argument${reqargs > 1 ? 's' : ''}.\n\n`);
    printXlHelp(io, help);
    return 2;
  }
  return { options, rest };
}
