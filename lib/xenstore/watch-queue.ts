import { AbortedError, WaitTimeoutError } from '../errors.js';
import type { WaitOptions } from '../util/wait.js';
import type { WatchEvent, XsWatch } from './api.js';

/**
 * The events of one watch, queued until the caller asks for them; `for await` iterates them and
 * ends when the watch is closed. Shared by every xenstore transport.
 */
export class WatchQueue implements XsWatch {
  private readonly events: WatchEvent[] = [];
  private readonly waiters: Array<(e: WatchEvent | undefined) => void> = [];
  closed = false;

  constructor(
    readonly path: string,
    readonly token: string,
    /** Tells the store to stop the watch (called once, by close()). */
    private readonly unwatch: () => Promise<void>,
  ) {}

  push(e: WatchEvent): void {
    const w = this.waiters.shift();
    if (w) w(e);
    else this.events.push(e);
  }

  next(opts: WaitOptions = {}): Promise<WatchEvent | undefined> {
    const e = this.events.shift();
    if (e || this.closed) return Promise.resolve(e);
    const what = `xenstore watch ${this.path}`;
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(new AbortedError(what, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      if (!signal && timeoutMs === undefined) return void this.waiters.push(resolve);
      // A waiter given up must leave the queue, or it would swallow the next event.
      const leave = (err: Error): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        done();
        reject(err);
      };
      const onAbort = (): void => leave(new AbortedError(what, { cause: signal?.reason }));
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => leave(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter = (ev: WatchEvent | undefined): void => {
        done();
        resolve(ev);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Ends the queue without telling the store (the connection is gone). */
  end(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.end();
    await this.unwatch();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (let e = await this.next(); e; e = await this.next()) yield e;
  }
}
