import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import type { Limits } from '../../lib/xenstore/server/ops.js';
import { defaultSocketPath } from '../../lib/xenstore/transport.js';
import type { CliContext, Command } from '../command.js';
import { CliUsageError, runCommandLine, type OptionValues } from '../options.js';

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

// C xenstored's options (xenstored_core.c's options[]), by their long names
const OPTIONS = {
  socket: { type: 'string', short: 's' },
  state: { type: 'string' },
  'entry-nb': { type: 'string', short: 'E' },
  'entry-size': { type: 'string', short: 'S' },
  'watch-nb': { type: 'string', short: 'W' },
  transaction: { type: 'string', short: 't' },
  'perm-nb': { type: 'string', short: 'A' },
  'path-max': { type: 'string', short: 'M' },
  quota: { type: 'string', short: 'Q', multiple: true },
  'quota-soft': { type: 'string', short: 'q', multiple: true },
  timeout: { type: 'string', short: 'w', multiple: true },
  backlog: { type: 'string' },
} as const;

const SIMPLE: Record<string, keyof Limits> = {
  'entry-nb': 'nodesPerDomain',
  'entry-size': 'nodeSize',
  'watch-nb': 'watchesPerDomain',
  transaction: 'transactionsPerDomain',
  'perm-nb': 'permsPerNode',
  'path-max': 'pathMax',
  backlog: 'backlog',
};
// set_quota / set_timeout of xenstored_core.c: WHAT=N
const KEYED: Record<string, Record<string, keyof Limits>> = {
  quota: { outstanding: 'outstanding', 'transaction-nodes': 'transactionNodes', memory: 'memory' },
  'quota-soft': { memory: 'memorySoft' },
  timeout: { 'watch-event': 'watchEventTimeoutMs' },
};

function limitsOf(values: OptionValues<typeof OPTIONS>): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const [flag, key] of Object.entries(SIMPLE)) {
    const value = values[flag as keyof typeof values] as string | undefined;
    if (value === undefined) continue;
    const n = count(value);
    if (n === undefined) throw new CliUsageError(`--${flag}: invalid value "${value}"`);
    limits[key] = key === 'pathMax' ? Math.min(n, 2048) : n;
  }
  for (const [flag, keys] of Object.entries(KEYED)) {
    for (const value of (values[flag as keyof typeof values] as string[] | undefined) ?? []) {
      const eq = value.indexOf('=');
      const key = eq > 0 ? keys[value.slice(0, eq)] : undefined;
      if (!key) throw new CliUsageError(`--${flag}: unknown ${flag === 'timeout' ? 'timeout' : 'quota'} "${value}"`);
      const n = count(value.slice(eq + 1));
      if (n === undefined) throw new CliUsageError(`--${flag}: invalid value "${value}"`);
      limits[key] = key === 'watchEventTimeoutMs' ? n * 1000 : n;
    }
  }
  return limits;
}

/**
 * `colo-xl xenstored`: the embedded xenstore daemon in the foreground, on the socket
 * libxenstore clients find through XENSTORED_PATH. With --state every committed change is
 * journalled and synced before it is acknowledged. Stops cleanly on SIGINT/SIGTERM.
 */
async function run(ctx: CliContext, argv: string[]): Promise<number> {
  return runCommandLine(ctx, { name: 'xenstored', help: HELP, options: OPTIONS }, argv, async ({ values, positionals }) => {
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
    const limits = limitsOf(values);
    const statePath = values.state;
    const socketPath = values.socket ?? defaultSocketPath(ctx.env);
    let daemon: EmbeddedXenstored | undefined;
    try {
      daemon = new EmbeddedXenstored({ statePath, limits });
      await daemon.listen(socketPath);
    } catch (e) {
      // Let go of the state file's lock at once: the caller may retry in this same process.
      await daemon?.close();
      throw e;
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
  });
}

export const xenstored: Command = {
  name: 'xenstored',
  usage,
  summary: 'Serve the embedded xenstore on a unix socket',
  run,
};
