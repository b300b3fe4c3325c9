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

/** Throws the AbortedError for `what` if `signal` has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(what, { cause: signal.reason });
}

/**
 * Runs `fn` under one signal that fires on the caller's signal or at the timeout, whichever comes
 * first, and settles with the typed error as soon as it fires even if `fn` is slow to notice.
 * `fn` must release what it holds when its signal fires (listeners, sockets, child waits).
 */
export async function bounded<T>(what: string, opts: WaitOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const outer = opts?.signal;
  throwIfAborted(outer, what);
  const timeoutMs = opts?.timeoutMs;
  if (!outer && timeoutMs === undefined) return fn(new AbortController().signal);
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(new AbortedError(what, { cause: outer?.reason }));
  outer?.addEventListener('abort', onAbort, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
  let unlisten = (): void => {};
  const fired = new Promise<never>((_, reject) => {
    const onFire = (): void => reject(ac.signal.reason);
    ac.signal.addEventListener('abort', onFire, { once: true });
    unlisten = () => ac.signal.removeEventListener('abort', onFire);
  });
  try {
    return await Promise.race([fn(ac.signal), fired]);
  } finally {
    clearTimeout(timer);
    unlisten();
    outer?.removeEventListener('abort', onAbort);
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
