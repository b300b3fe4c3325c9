/**
 * libxl's lock files: an flock(2) on a file that the holder unlinks when it lets go, so a
 * waiter that got the lock on a file already unlinked tries again on the new one. Taking the
 * same file with the same syscall is what lets colo-xl and a real `xl` on one host exclude each
 * other. Node has no flock binding; libc's is called through koffi (an optional dependency).
 */
import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import { AbortedError, WaitTimeoutError } from '../errors.js';
import { sleep, throwIfAborted, type WaitOptions } from '../util/wait.js';
import { ERROR_LOCK_FAIL, LibxlError } from './errors.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;

/** flock(2) cannot be called here (koffi or libc missing): no lock libxl would respect. */
export class FlockUnavailableError extends LibxlError {
  constructor(readonly path: string, reason: string) {
    super(ERROR_LOCK_FAIL, `cannot lock ${path}: flock(2) is not available (${reason}); install the optional dependency koffi`);
  }
}

/** The lock was not taken: the wait was abandoned, or a syscall failed. */
export class FlockError extends LibxlError {
  constructor(readonly path: string, message: string) {
    super(ERROR_LOCK_FAIL, message);
  }
}

type FlockCall = (fd: number, op: number) => number;

interface Libc {
  flock: FlockCall;
  errno(): number;
}

async function loadLibc(path: string): Promise<Libc> {
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = (await import('koffi')).default;
  } catch (e) {
    throw new FlockUnavailableError(path, `koffi: ${(e as Error).message}`);
  }
  try {
    const libc = koffi.load('libc.so.6');
    return { flock: libc.func('int flock(int fd, int operation)') as FlockCall, errno: () => koffi.errno() };
  } catch (e) {
    throw new FlockUnavailableError(path, `libc.so.6: ${(e as Error).message}`);
  }
}

/**
 * How long to wait for a busy lock: libxl waits for as long as it takes (no `timeoutMs`); a
 * timeout is WaitTimeoutError, `signal` firing AbortedError.
 */
export interface LockFileOptions extends WaitOptions {
  /** Called once if the lock is not free at the first try, before waiting for it. */
  onWait?: () => void;
  /** How often a busy lock is tried again (default 20 ms). */
  pollMs?: number;
}

/** A held lock file; release() as libxl__unlock_file does. */
export class LockFile {
  private released = false;
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /**
   * libxl_internal.c:libxl__lock_file. libxl blocks in flock(LOCK_EX); a blocking call would
   * stop Node's event loop, so this tries LOCK_EX|LOCK_NB until it succeeds: the same lock, a
   * waiter that can be cancelled.
   */
  static async acquire(path: string, opts: LockFileOptions = {}): Promise<LockFile> {
    const libc = await loadLibc(path);
    const what = `lock file ${path}`;
    const deadline = opts.timeoutMs === undefined ? undefined : performance.now() + opts.timeoutMs;
    let waited = false;
    for (;;) {
      throwIfAborted(opts.signal, what);
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o666);
      } catch (e) {
        throw new FlockError(path, `cannot open lockfile ${path}, errno=${(e as NodeJS.ErrnoException).errno ?? ''}: ${(e as Error).message}`);
      }
      try {
        for (;;) {
          if (libc.flock(fd, LOCK_EX | LOCK_NB) === 0) break;
          const errno = libc.errno();
          if (errno === EINTR) continue;
          if (errno !== EWOULDBLOCK) throw new FlockError(path, `unexpected error while trying to lock ${path}, fd=${fd}, errno=${errno}`);
          if (!waited) {
            waited = true;
            opts.onWait?.();
          }
          if (deadline !== undefined && performance.now() >= deadline) throw new WaitTimeoutError(what, opts.timeoutMs!);
          await sleep(opts.pollMs ?? 20, { signal: opts.signal }).catch((e: unknown) => {
            throw new AbortedError(what, { cause: (e as Error).cause });
          });
        }
        // The holder unlinks before it closes: the file we locked may no longer be the lock.
        const mine = fstatSync(fd, { bigint: true });
        let current: ReturnType<typeof statSync> | undefined;
        try {
          current = statSync(path, { bigint: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        if (current && current.dev === mine.dev && current.ino === mine.ino) return new LockFile(path, fd);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      closeSync(fd);
    }
  }

  /** libxl_internal.c:libxl__unlock_file: unlink first, then close, so no waiter locks a dead file. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone: nothing to undo
    }
    closeSync(this.fd);
  }
}
