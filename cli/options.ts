/**
 * The one option parser of colo-xl's own commands (colo, colo-ha, demo, domxml-*, devmodel-args,
 * xenstored, tour): node:util.parseArgs, wrapped once so that every such command answers
 * `--help` (exit 0), refuses a bad command line the same way (exit 2), reports a failure the same
 * way (exit 1), and under `--json` writes one shape: `{"kind": ..., ...}` a line, errors
 * included. The xl-compatible commands keep xl's getopt (getopt.ts) and xl's words instead.
 */
import { parseArgs } from 'node:util';
import { ColoXlError } from '../lib/errors.js';
import type { CliContext } from './command.js';
import type { Io } from './io.js';
import { tryParseHostPort } from '../lib/util/host-port.js';

/** Exit statuses of colo-xl's own commands. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line the command cannot run: a missing, unknown or malformed option or word. */
export class CliUsageError extends ColoXlError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}
export type OptionSpec = Record<string, OptionDef>;

type ValueOf<D extends OptionDef> = D['type'] extends 'string'
  ? D['multiple'] extends true
    ? string[]
    : string
  : D['multiple'] extends true
    ? boolean[]
    : boolean;

export type OptionValues<O extends OptionSpec> = { [K in keyof O]?: ValueOf<O[K]> };

export interface ParsedArgs<O extends OptionSpec> {
  values: OptionValues<O>;
  positionals: string[];
}

// Every command has these two; `--json` is accepted (and ignored) by a command without JSON
// output only when its spec lists it.
const HELP: OptionSpec = { help: { type: 'boolean', short: 'h' } };

/** parseArgs' own messages, in the words colo-xl's usage errors use. */
function usageMessage(e: Error & { code?: string }): string {
  const opt = /'(-[^',]+)(?:, (--[^' ]+))?/.exec(e.message);
  const name = opt?.[2] ?? opt?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name}`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /does not take an argument/.test(e.message) ? `option ${name} takes no value` : `option ${name} needs a value`;
  }
  return e.message;
}

/** Parses `argv` against `options` (plus -h/--help); a bad command line is a CliUsageError. */
export function parseOptions<O extends OptionSpec>(argv: string[], options: O): ParsedArgs<O> & { help: boolean } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, ...HELP }, allowPositionals: true, strict: true });
    const { help, ...values } = r.values as Record<string, unknown>;
    return { values: values as OptionValues<O>, positionals: r.positionals, help: help === true };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new CliUsageError(usageMessage(e as Error));
    throw e;
  }
}

/** Milliseconds as the JSON records give them: three decimals. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The stable code of a failure, for `{"kind":"error","code":...}`. */
export function errorCode(e: unknown): string {
  if (e instanceof ColoXlError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  // errno failures (ENOENT, ECONNREFUSED...) keep their name; anything else is a bug
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'INTERNAL';
}

/**
 * Where a command's results go: text lines for people, or under `--json` one JSON object a line
 * whose `kind` says what it is (`step`, `result`, `checkpoint`, `status`, `progress`, `error`...).
 */
export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** One record; `text` (without its newline) is what a person reads instead, when there is one. */
  emit(kind: string, fields: Record<string, unknown>, text?: string): void {
    if (this.json) this.io.out(JSON.stringify({ kind, ...fields }) + '\n');
    else if (text !== undefined) this.io.out(text + '\n');
  }

  /** A failure: always a line on stderr (`prefix: message`), and under --json an error record. */
  error(prefix: string, code: string, message: string): void {
    if (this.json) this.io.out(JSON.stringify({ kind: 'error', code, message }) + '\n');
    this.io.err(`${prefix}: ${message}\n`);
  }
}

export interface CommandLine<O extends OptionSpec> {
  /** What messages start with after `colo-xl `: the command (and step). */
  name: string;
  /** The whole `--help` text, ending in a newline. */
  help: string;
  options: O;
}

/**
 * Runs one of colo-xl's own commands: `--help` prints `help` (0); a CliUsageError, from the
 * parse or from the body, prints the reason and the help on stderr (2); any other error the
 * body throws is a failure, said in one line (1; its stack too with -v when it is not one of
 * colo-xl's own errors). Under --json the usage error and the failure are also error records.
 */
export async function runCommandLine<O extends OptionSpec>(
  ctx: CliContext,
  line: CommandLine<O>,
  argv: string[],
  body: (args: ParsedArgs<O>, out: Output) => Promise<number>,
): Promise<number> {
  const prefix = `colo-xl ${line.name}`;
  // known before the parse, so that a refused command line is a JSON record too
  const out = new Output(ctx.io, 'json' in line.options && argv.includes('--json'));
  try {
    const args = parseOptions(argv, line.options);
    if (args.help) {
      ctx.io.out(line.help);
      return EXIT_OK;
    }
    return await body(args, out);
  } catch (e) {
    if (e instanceof CliUsageError) {
      out.error(prefix, e.code, e.message);
      ctx.io.err(`\n${line.help}`);
      return EXIT_USAGE;
    }
    if (!(e instanceof Error)) throw e;
    out.error(prefix, errorCode(e), e.message);
    if (!(e instanceof ColoXlError) && ctx.verbose > 0 && e.stack) ctx.io.err(`${e.stack}\n`);
    return EXIT_FAILURE;
  }
}

/** The one value of a string option, or a usage error naming it. */
export function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new CliUsageError(`--${name} is needed`);
  return value;
}

/** A whole number in [min, max] from an option's text, or a usage error. */
export function intOption(value: string | undefined, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return dflt;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliUsageError(`bad --${name} '${value}': ${max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `${min}..${max}`} is needed`);
  }
  return n;
}

/** One of a fixed set of words, or a usage error listing them. */
export function oneOf<T extends string>(value: string | undefined, name: string, words: readonly T[], dflt?: T): T {
  if (value === undefined && dflt !== undefined) return dflt;
  if (value === undefined) throw new CliUsageError(`--${name} is needed`);
  if (!(words as readonly string[]).includes(value)) throw new CliUsageError(`bad --${name} '${value}': ${words.join(' or ')}`);
  return value as T;
}

/** `HOST:PORT` (an IPv6 host in brackets) from an option's text, or a usage error. */
export function hostPortOption(value: string, name: string, minPort = 1): { host: string; port: number } {
  const hp = tryParseHostPort(value);
  if (!hp || hp.port < minPort) throw new CliUsageError(`bad --${name} '${value}': expected <host>:<port>`);
  return hp;
}

/** A number > 0 (a rate, milliseconds, a count) from an option's text, or a usage error. */
export function positiveOption(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliUsageError(`bad --${name} '${value}': a positive number is needed`);
  return n;
}
