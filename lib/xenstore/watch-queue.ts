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

  next(timeoutMs?: number): Promise<WatchEvent | undefined> {
    const e = this.events.shift();
    if (e || this.closed) return Promise.resolve(e);
    return new Promise((resolve) => {
      if (timeoutMs === undefined) return void this.waiters.push(resolve);
      // A waiter that timed out must leave the queue, or it would swallow the next event.
      const waiter = (ev: WatchEvent | undefined): void => {
        clearTimeout(timer);
        resolve(ev);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
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

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (let e = await this.next(); e; e = await this.next()) yield e;
  }
}
