import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Another live process holds the embedded store's journal. */
export class StateLockedError extends Error {
  constructor(
    readonly statePath: string,
    readonly pid: number,
  ) {
    super(
      `xenstore state ${statePath} is in use by process ${pid}` +
        ' (for several colo-xl processes at once, serve it with `colo-xl xenstored --state FILE` and set XENSTORED_PATH)',
    );
    this.name = 'StateLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive, pid-stamped lock file next to the journal: one process at a time owns the
 * embedded store (two appenders would interleave stale views). A lock left by a dead process
 * is taken over.
 */
export class StateLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly path: string) {
    process.once('exit', this.onExit);
  }

  /** Takes the lock now or throws StateLockedError. */
  static acquire(statePath: string): StateLock {
    const path = `${statePath}.lock`;
    mkdirSync(dirname(statePath), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new StateLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        continue;
      }
      if (Number.isInteger(pid) && alive(pid)) throw new StateLockedError(statePath, pid);
      try {
        unlinkSync(path);
      } catch {
        // someone else cleaned it up first
      }
    }
    throw new StateLockedError(statePath, NaN);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
