/**
 * Event listeners, as in qemu's python/qemu/qmp/events.py: a listener is registered on a client
 * *before* the command that triggers its events, queues every matching event from then on, and is
 * consumed with `for await` or `get()`. Nothing is lost between registration and consumption.
 */
import { TimeoutError } from './errors.js';
import type { QmpEvent } from './message.js';

export type EventFilter = (event: QmpEvent) => boolean;

export class EventListener implements AsyncIterable<QmpEvent> {
  private readonly queue: QmpEvent[] = [];
  private waiters: Array<{ resolve: (e: QmpEvent | null) => void }> = [];
  private closed = false;
  readonly names: Set<string> | null;

  /** `names` empty or omitted: every event. `filter` narrows further (e.g. on data.device). */
  constructor(
    names?: string | Iterable<string>,
    private readonly filter?: EventFilter,
  ) {
    const list = names === undefined ? [] : typeof names === 'string' ? [names] : [...names];
    this.names = list.length > 0 ? new Set(list) : null;
  }

  accepts(event: QmpEvent): boolean {
    return (this.names === null || this.names.has(event.event)) && (this.filter === undefined || this.filter(event));
  }

  /** Called by the client for each event it reads. */
  deliver(event: QmpEvent): void {
    if (this.closed || !this.accepts(event)) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(event);
    else this.queue.push(event);
  }

  /** Ends the iteration (the client calls it on disconnect); queued events stay readable. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters) w.resolve(null);
    this.waiters = [];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Events received and not yet consumed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Drops the queued events (e.g. those left from an earlier step). */
  clear(): QmpEvent[] {
    return this.queue.splice(0);
  }

  /** The next event; `null` once the listener is closed and empty. */
  async next(timeoutMs?: number): Promise<QmpEvent | null> {
    const queued = this.queue.shift();
    if (queued) return queued;
    if (this.closed) return null;
    return await new Promise<QmpEvent | null>((resolve, reject) => {
      const waiter = {
        resolve: (e: QmpEvent | null) => {
          if (timer) clearTimeout(timer);
          resolve(e);
        },
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              const names = this.names ? [...this.names].join('|') : 'any event';
              reject(new TimeoutError(`no ${names} within ${timeoutMs} ms`));
            }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Like next(), but a closed listener is an error: for callers that need the event. */
  async get(timeoutMs?: number): Promise<QmpEvent> {
    const e = await this.next(timeoutMs);
    if (e === null) throw new TimeoutError('event listener closed (connection lost) before the event arrived');
    return e;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<QmpEvent> {
    for (;;) {
      const e = await this.next();
      if (e === null) return;
      yield e;
    }
  }
}
