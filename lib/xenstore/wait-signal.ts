/**
 * How the client's bounded waits report a fired signal (the signal itself is lib/util/wait.ts's
 * boundSignal).
 * @module
 */
import { AbortedError, WaitTimeoutError } from '../errors.js';

/** A signal's reason as the wait's error: a wait error passes on as it is, anything else is wrapped. */
export function abortReason(what: string, signal: AbortSignal | undefined): AbortedError | WaitTimeoutError {
  const reason: unknown = signal?.reason;
  return reason instanceof AbortedError || reason instanceof WaitTimeoutError ? reason : new AbortedError(what, { cause: reason });
}
