import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import type { Limits } from '../../lib/xenstore/server/ops.js';
import { defaultSocketPath } from '../../lib/xenstore/transport.js';
import type { CliContext, Command } from '../command.js';

const usage = '[--socket PATH] [--state FILE] [QUOTA OPTIONS]';

const HELP = `Usage: colo-xl xenstored ${usage}

Serve the embedded xenstore on a unix socket, in the foreground.

QUOTA OPTIONS, as C xenstored 4.17 takes them (defaults in brackets):
  -E, --entry-nb N         nodes per domain [1000]
  -S, --entry-size N       size of a node [2048]
  -W, --watch-nb N         watches per domain [128]
  -t, --transaction N      transactions per domain [10]
  -A, --perm-nb N          permissions per node [5]
  -M, --path-max N         node path length (at most 2048) [2048]
  -Q, --quota WHAT=N       outstanding (requests) [20], transaction-nodes [1024],
                           memory (bytes of pending output) [2621440]
  -q, --quota-soft memory=N  warning level [2097152]
  -w, --timeout watch-event=SECONDS  how long an event waits for its reader [20]
These bind unprivileged domains only, as in C xenstored. Socket clients are dom0; for them
  --backlog BYTES          pending output at which a client that does not read stops
                           being served and loses watch events (0: unbounded) [8388608]
`;

/** A non-negative integer, as C's get_optval_int accepts it. */
function count(v: string): number | undefined {
  return /^\d+$/.test(v) && Number(v) <= 0x7fffffff ? Number(v) : undefined;
}

const SIMPLE: Record<string, keyof Limits> = {
  '-E': 'nodesPerDomain',
  '--entry-nb': 'nodesPerDomain',
  '-S': 'nodeSize',
  '--entry-size': 'nodeSize',
  '-W': 'watchesPerDomain',
  '--watch-nb': 'watchesPerDomain',
  '-t': 'transactionsPerDomain',
  '--transaction': 'transactionsPerDomain',
  '-A': 'permsPerNode',
  '--perm-nb': 'permsPerNode',
  '-M': 'pathMax',
  '--path-max': 'pathMax',
  '--backlog': 'backlog',
};
// set_quota / set_timeout of xenstored_core.c: WHAT=N
const KEYED: Record<string, Record<string, keyof Limits>> = {
  '-Q': { outstanding: 'outstanding', 'transaction-nodes': 'transactionNodes', memory: 'memory' },
  '--quota': { outstanding: 'outstanding', 'transaction-nodes': 'transactionNodes', memory: 'memory' },
  '-q': { memory: 'memorySoft' },
  '--quota-soft': { memory: 'memorySoft' },
  '-w': { 'watch-event': 'watchEventTimeoutMs' },
  '--timeout': { 'watch-event': 'watchEventTimeoutMs' },
};

type Parsed = { socketPath?: string; statePath?: string; limits: Partial<Limits> } | { help: true } | { error: string };

function parseArgs(argv: string[]): Parsed {
  const out: { socketPath?: string; statePath?: string; limits: Partial<Limits> } = { limits: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '-h' || flag === '--help') return { help: true };
    const known = flag === '--socket' || flag === '-s' || flag === '--state' || flag in SIMPLE || flag in KEYED;
    if (!known) return { error: `unknown argument ${a}\nUsage: colo-xl xenstored ${usage}\n` };
    const value = inline ?? argv[++i];
    if (!value) return { error: `${flag} needs a value\n` };
    if (flag === '--state') out.statePath = value;
    else if (flag === '--socket' || flag === '-s') out.socketPath = value;
    else if (flag in SIMPLE) {
      const n = count(value);
      if (n === undefined) return { error: `${flag}: invalid value "${value}"\n` };
      const key = SIMPLE[flag]!;
      out.limits[key] = key === 'pathMax' ? Math.min(n, 2048) : n;
    } else {
      const eq = value.indexOf('=');
      const key = eq > 0 ? KEYED[flag]![value.slice(0, eq)] : undefined;
      if (!key) return { error: `${flag}: unknown ${flag === '-w' || flag === '--timeout' ? 'timeout' : 'quota'} "${value}"\n` };
      const n = count(value.slice(eq + 1));
      if (n === undefined) return { error: `${flag}: invalid value "${value}"\n` };
      out.limits[key] = key === 'watchEventTimeoutMs' ? n * 1000 : n;
    }
  }
  return out;
}

/**
 * `colo-xl xenstored`: the embedded xenstore daemon in the foreground, on the socket
 * libxenstore clients find through XENSTORED_PATH. With --state every committed change is
 * journalled and synced before it is acknowledged. Stops cleanly on SIGINT/SIGTERM.
 */
async function run(ctx: CliContext, argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('help' in parsed) {
    ctx.io.out(HELP);
    return 0;
  }
  if ('error' in parsed) {
    ctx.io.err(`colo-xl xenstored: ${parsed.error}`);
    return 2;
  }
  const { statePath, limits } = parsed;
  const socketPath = parsed.socketPath ?? defaultSocketPath(ctx.env);
  let daemon: EmbeddedXenstored | undefined;
  try {
    daemon = new EmbeddedXenstored({ statePath, limits });
    await daemon.listen(socketPath);
  } catch (e) {
    // Let go of the state file's lock at once: the caller may retry in this same process.
    await daemon?.close();
    ctx.io.err(`colo-xl xenstored: ${(e as Error).message}\n`);
    return 1;
  }
  if (ctx.verbose > 0) ctx.io.err(`colo-xl xenstored: serving ${socketPath}${statePath ? ` (state ${statePath})` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await daemon.close();
  return 0;
}

export const xenstored: Command = {
  name: 'xenstored',
  usage,
  summary: 'Serve the embedded xenstore on a unix socket',
  run,
};
