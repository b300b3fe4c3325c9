import { dirname, join } from 'node:path';
import { ColoXlError } from '../lib/errors.js';
import { libxlCtx, type LibxlCtx } from '../lib/libxl/ctx.js';
import { LibxlError } from '../lib/libxl/errors.js';
import { libxlLineLogger } from '../lib/libxl/log.js';
import type { XsClient } from '../lib/xenstore/client.js';
import { defaultStatePath, openXenstore, type OpenXenstoreOptions } from '../lib/xenstore/open.js';
import { EmbeddedStores } from '../lib/xenstore/server/stores.js';
import type { CliContext } from './command.js';

/** COLO_XL_XENSTORE holds something other than the store choices colo-xl knows. */
export class XenstoreChoiceError extends ColoXlError {
  constructor(readonly value: string) {
    super('CLI_XENSTORE_CHOICE', `COLO_XL_XENSTORE=${value}: expected auto, daemon or embedded`);
  }
}

function storeMode(env: NodeJS.ProcessEnv): NonNullable<OpenXenstoreOptions['mode']> {
  const asked = env.COLO_XL_XENSTORE;
  if (asked === undefined || asked === '' || asked === 'auto') return 'auto';
  if (asked === 'daemon' || asked === 'embedded') return asked;
  throw new XenstoreChoiceError(asked);
}

/**
 * The xenstore a colo-xl command uses: the daemon; without one, the embedded store, but only on
 * a host without Xen (elsewhere openXenstore fails, naming what it tried) and saying so once per
 * run, unless COLO_XL_XENSTORE=embedded asked for it.
 */
export async function openCliXenstore(cli: CliContext): Promise<XsClient> {
  return openXenstore({
    env: cli.env,
    mode: storeMode(cli.env),
    stores: (cli.xenstores ??= new EmbeddedStores()),
    onEmbeddedFallback: (path) => {
      const said = (cli.said ??= new Set());
      if (said.has('embedded-store')) return;
      said.add('embedded-store');
      cli.io.err(`colo-xl: no xenstored; using the embedded store at ${path}\n`);
    },
  });
}

/**
 * Runs `fn` with a libxl context on the xenstore colo-xl uses (see openCliXenstore), libxl's
 * messages going to stderr. On a real Xen host the domain configurations live where xl keeps
 * them; with the embedded store, next to its state.
 */
export async function withLibxl<T>(cli: CliContext, fn: (ctx: LibxlCtx) => Promise<T>): Promise<T> {
  const xs = await openCliXenstore(cli);
  const embedded = xs.kind !== 'socket' && xs.kind !== 'xenbus';
  const ctx = libxlCtx(xs, {
    logger: libxlLineLogger((line) => cli.io.err(line), cli.verbose > 0 ? 'debug' : 'warn'),
    // pipelining saves round trips; in-process there are none, only the cost of juggling requests
    pipeline: !embedded,
    userdataDir: cli.env.COLO_XL_USERDATA_DIR ?? (embedded ? join(dirname(defaultStatePath(cli.env)), 'userdata') : '/var/lib/xen'),
    scriptDir: cli.env.COLO_XL_SCRIPT_DIR,
    // hotplug scripts see xl's environment and write onto its stderr
    env: cli.env,
    hotplugOutput: (text) => cli.io.err(text),
  });
  try {
    return await fn(ctx);
  } finally {
    await xs.close();
  }
}

/** Runs a libxl call the way xl does: a libxl failure becomes xl's message and status 1. */
export async function xlCall(cli: CliContext, failure: string, call: () => Promise<void>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (e) {
    if (!(e instanceof LibxlError)) throw e;
    cli.io.err(failure);
    return 1;
  }
}
