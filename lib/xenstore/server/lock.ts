import { ColoXlError } from '../../errors.js';
import { PidLock } from '../../util/pid-lock.js';

/** Another live process (or this one, through another owner) holds the embedded store's journal. */
export class StateLockedError extends ColoXlError {
  constructor(
    readonly statePath: string,
    readonly pid: number,
  ) {
    super(
      'XS_STATE_LOCKED',
      `xenstore state ${statePath} is in use by process ${pid}` +
        ' (for several colo-xl processes at once, serve it with `colo-xl xenstored --state FILE` and set XENSTORED_PATH)',
    );
  }
}

/**
 * An exclusive, pid-stamped lock file next to the journal: one process at a time owns the
 * embedded store (two appenders would interleave stale views). A lock left by a dead process
 * is taken over.
 */
export const StateLock = {
  /** Takes the lock now or throws StateLockedError. */
  acquire(statePath: string): PidLock {
    const got = PidLock.tryAcquire(`${statePath}.lock`);
    if (typeof got === 'number') throw new StateLockedError(statePath, got);
    return got;
  },
};
