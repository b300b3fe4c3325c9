/**
 * The signals behind the client's bounded waits (a transaction's, a request's).
 * @module
 */
import { AbortedError, WaitTimeoutError } from '../errors.js';
import { throwIfAborted, type WaitOptions } from '../util/wait.js';

/** A signal's reason as the wait's error: a wait error passes on as it is, anything else is wrapped. */
export function abortReason(what: string, signal: AbortSignal | undefined): AbortedError | WaitTimeoutError {
  const reason: unknown = signal?.reason;
  return reason instanceof AbortedError || reason instanceof WaitTimeoutError ? reason : new AbortedError(what, { cause: reason });
}

/**
 * One signal for a wait of several requests: it fires with the AbortedError when the caller's
 * signal does, with the WaitTimeoutError at the timeout; undefined when there is no bound.
 */
export function boundSignal(what: string, opts: WaitOptions): { signal: AbortSignal; done(): void } | undefined {
  if (!opts.signal && opts.timeoutMs === undefined) return undefined;
  throwIfAborted(opts.signal, what);
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(new AbortedError(what, { cause: opts.signal?.reason }));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const limit = opts.timeoutMs;
  const timer = limit === undefined ? undefined : setTimeout(() => ac.abort(new WaitTimeoutError(what, limit)), limit);
  return {
    signal: ac.signal,
    done: () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}
