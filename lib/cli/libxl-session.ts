import { dirname, join } from 'node:path';
import { libxlCtx, type LibxlCtx } from '../libxl/ctx.js';
import { LibxlError, LibxlLogger } from '../libxl/errors.js';
import { defaultStatePath, openXenstore } from '../xenstore/open.js';
import type { CliContext } from './command.js';

/**
 * Runs `fn` with a libxl context on the xenstore colo-xl uses (a running xenstored if one answers,
 * else the embedded store), libxl's messages going to stderr. On a real Xen host the domain
 * configurations live where xl keeps them; with the embedded store, next to its state.
 */
export async function withLibxl<T>(cli: CliContext, fn: (ctx: LibxlCtx) => Promise<T>): Promise<T> {
  const xs = await openXenstore({ env: cli.env });
  const embedded = xs.kind !== 'socket' && xs.kind !== 'xenbus';
  const log = new LibxlLogger((line) => cli.io.err(line), cli.verbose > 0 ? 'debug' : 'warn');
  const ctx = libxlCtx(xs, {
    log,
    // pipelining saves round trips; in-process there are none, only the cost of juggling requests
    pipeline: !embedded,
    userdataDir: cli.env.COLO_XL_USERDATA_DIR ?? (embedded ? join(dirname(defaultStatePath(cli.env)), 'userdata') : '/var/lib/xen'),
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
