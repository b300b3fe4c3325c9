/**
 * Bounded, cancellable waits. Every public wait in colo-xl takes {@link WaitOptions}: a caller's
 * AbortSignal and a timeout, and fails with {@link AbortedError} or {@link WaitTimeoutError}
 * (both {@link ColoXlError}s) instead of hanging. No timer outlives its wait.
 * @module
 */
import { AbortedError, WaitTimeoutError } from '../errors.js';

export interface WaitOptions {
  /** Gives the wait up when it fires (AbortedError, with the signal's reason as `cause`). */
  signal?: AbortSignal;
  /** Gives the wait up after this many milliseconds (WaitTimeoutError); none when undefined. */
  timeoutMs?: number;
}

/** A fired signal's reason as the wait's error: a wait error passes on as it is, anything else is wrapped. */
export function abortReason(what: string, signal: AbortSignal | undefined): AbortedError | WaitTimeoutError {
  const reason: unknown = signal?.reason;
  return reason instanceof AbortedError || reason instanceof WaitTimeoutError ? reason : new AbortedError(what, { cause: reason });
}

/** Throws the AbortedError for `what` if `signal` has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(what, { cause: signal.reason });
}

/** A timeout of Infinity (or none) means no timer at all: setTimeout would fire at once on it. */
export function finiteTimeout(timeoutMs: number | undefined): number | undefined {
  return timeoutMs !== undefined && Number.isFinite(timeoutMs) ? Math.max(0, timeoutMs) : undefined;
}

/**
 * One signal for a wait that may span several operations: it fires with the AbortedError when
 * the caller's signal does, with the WaitTimeoutError at the timeout; undefined when there is no
 * bound. `done()` releases the timer and the caller's listener.
 */
export function boundSignal(what: string, opts: WaitOptions | undefined): { signal: AbortSignal; done(): void } | undefined {
  const outer = opts?.signal;
  const limit = finiteTimeout(opts?.timeoutMs);
  if (!outer && limit === undefined) return undefined;
  throwIfAborted(outer, what);
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(new AbortedError(what, { cause: outer?.reason }));
  outer?.addEventListener('abort', onAbort, { once: true });
  const timer = limit === undefined ? undefined : setTimeout(() => ac.abort(new WaitTimeoutError(what, limit)), limit);
  return {
    signal: ac.signal,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `fn` under one signal that fires on the caller's signal or at the timeout, whichever comes
 * first, and settles with the typed error as soon as it fires even if `fn` is slow to notice.
 * `fn` must release what it holds when its signal fires (listeners, sockets, child waits).
 */
export async function bounded<T>(what: string, opts: WaitOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const bound = boundSignal(what, opts);
  if (!bound) return fn(new AbortController().signal);
  const { signal } = bound;
  let unlisten = (): void => {};
  const fired = new Promise<never>((_, reject) => {
    const onFire = (): void => reject(signal.reason);
    signal.addEventListener('abort', onFire, { once: true });
    unlisten = () => signal.removeEventListener('abort', onFire);
  });
  try {
    return await Promise.race([fn(signal), fired]);
  } finally {
    bound.done();
    unlisten();
  }
}

/** setTimeout as a promise that an AbortSignal cancels (AbortedError) without leaving a timer. */
export function sleep(ms: number, opts?: { signal?: AbortSignal }): Promise<void> {
  const signal = opts?.signal;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('sleep', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('sleep', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
