/**
 * The root of every error colo-xl throws on purpose, in the manner of qemu's python/qemu/qmp
 * error.py: one class to catch, a stable `code` to match on (messages are for people and may
 * change; codes do not), and subclasses by layer that carry what each layer knows.
 *
 * Codes are UPPER_SNAKE strings, namespaced by layer where that helps a reader (`QMP_TIMEOUT`,
 * `XS_UNAVAILABLE`, `LIBXL_ERROR_FAIL`). An error that wraps another keeps it as `cause`.
 * @module
 */

export class ColoXlError extends Error {
  /** Stable identifier of the failure; part of the API. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    // The exported class name, so `err.name` and `instanceof` name the same thing.
    this.name = new.target.name;
  }
}

/** A wait that ran out of time: `what` names the wait, `timeoutMs` its bound. */
export class WaitTimeoutError extends ColoXlError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super('WAIT_TIMEOUT', `${what}: no result within ${timeoutMs} ms`, options);
  }
}

/** A wait given up because its caller's AbortSignal fired; `cause` is the signal's reason. */
export class AbortedError extends ColoXlError {
  constructor(
    readonly what: string,
    options?: ErrorOptions,
  ) {
    super('ABORTED', `${what}: aborted`, options);
  }
}

/** A caller passed a value the function cannot accept (a programming error, not a runtime one). */
export class InvalidArgumentError extends ColoXlError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** An internal invariant was broken: a bug in colo-xl, reported rather than hidden. */
export class InternalError extends ColoXlError {
  constructor(message: string, options?: ErrorOptions) {
    super('INTERNAL', message, options);
  }
}
