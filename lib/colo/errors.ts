/** Failures of a COLO step, each naming the step and the side it ran on. */
import { ColoXlError, WaitTimeoutError } from '../errors.js';
import { bounded, type WaitOptions } from '../util/wait.js';

export type ColoSide = 'primary' | 'secondary';

/**
 * A COLO step failed on one side. `cause` is what failed underneath (a QMP error, most often);
 * `code` is COLO_STEP_FAILED unless a subclass says more.
 */
export class ColoError extends ColoXlError {
  constructor(
    readonly side: ColoSide,
    readonly step: string,
    message: string,
    options?: ErrorOptions & { code?: string },
  ) {
    super(options?.code ?? 'COLO_STEP_FAILED', `COLO ${side}: ${step}: ${message}`, options);
  }
}

/** query-xen-replication-status said {"error": true}: libxl ignores it, we do not. */
export class ReplicationStatusError extends ColoError {
  constructor(
    side: ColoSide,
    readonly desc: string,
  ) {
    super(side, 'query-xen-replication-status', `replication error: ${desc}`, { code: 'COLO_REPLICATION_ERROR' });
  }
}

/** Runs one step of `side`; a failure that is not a ColoError already becomes one naming the step. */
export async function coloStep<T>(side: ColoSide, step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ColoError) throw e;
    throw new ColoError(side, step, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/**
 * bounded() for a COLO wait: a timeout becomes a ColoError (code COLO_TIMEOUT, the
 * WaitTimeoutError as `cause`) naming the side and step, as every other COLO failure does; the
 * caller's abort stays an AbortedError.
 */
export async function coloWait<T>(side: ColoSide, step: string, opts: WaitOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await bounded(`COLO ${side}: ${step}`, opts, fn);
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    throw new ColoError(side, step, `not done within ${e.timeoutMs} ms`, { cause: e, code: 'COLO_TIMEOUT' });
  }
}
