/**
 * An exclusive lock file stamped with its holder's pid. A lock whose holder has died is taken
 * over, so a `kill -9` never leaves a resource locked for good.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './wait.js';

/** Whether process `pid` exists (kill(pid, 0); EPERM: it does, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PidLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly path: string) {
    process.once('exit', this.onExit);
  }

  /** Takes the lock now, or answers the pid of the live process that has it (NaN if unknown). */
  static tryAcquire(path: string): PidLock | number {
    mkdirSync(dirname(path), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new PidLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        continue;
      }
      if (Number.isInteger(pid) && processAlive(pid)) return pid;
      try {
        unlinkSync(path);
      } catch {
        // someone else cleaned it up first
      }
    }
    return NaN;
  }

  /**
   * Waits up to `timeoutMs` for the lock; answers the holder's pid if it never came free.
   * `signal` gives the wait up (AbortedError).
   */
  static async acquire(path: string, timeoutMs: number, opts: { signal?: AbortSignal } = {}): Promise<PidLock | number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = PidLock.tryAcquire(path);
      if (typeof got !== 'number' || Date.now() > deadline) return got;
      await sleep(20, opts);
    }
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
