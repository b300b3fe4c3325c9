/**
 * The QMP client's waits on the shared bounded() of lib/util/wait.ts: a caller's abort stays an
 * AbortedError, and running out of time becomes the QMPTimeoutError the client has always raised
 * (a QMPError with code QMP_TIMEOUT, the WaitTimeoutError as its cause).
 * @module
 */
import { WaitTimeoutError } from '../errors.js';
import { bounded, type WaitOptions } from '../util/wait.js';
import { QMPTimeoutError } from './errors.js';

/**
 * Runs `fn` under `opts` (see bounded: `fn` must let go of what it holds when its signal fires);
 * `timedOut(ms)` builds the error for a wait that ran out.
 */
export async function qmpBounded<T>(
  what: string,
  opts: WaitOptions,
  fn: (signal: AbortSignal) => Promise<T>,
  timedOut: (timeoutMs: number, cause: WaitTimeoutError) => QMPTimeoutError,
): Promise<T> {
  try {
    return await bounded(what, opts, fn);
  } catch (e) {
    // only this wait's own timeout: a WaitTimeoutError from inside `fn` is passed on as it is
    if (e instanceof WaitTimeoutError && e.what === what) throw timedOut(e.timeoutMs, e);
    throw e;
  }
}
