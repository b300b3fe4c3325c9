/**
 * Event listeners, as in qemu's python/qemu/qmp/events.py: a listener is registered on a client
 * *before* the command that triggers its events, queues every matching event from then on, and is
 * consumed with `for await` or `get()`. Nothing is lost between registration and consumption.
 * An EventHub is the registry a client keeps (listen, remove, deliver to all).
 * @module
 */
import type { WaitOptions } from '../util/wait.js';
import { qmpBounded } from './deadline.js';
import { QMPExecInterruptedError, QMPTimeoutError } from './errors.js';
import type { QmpEvent } from './types.js';

export type EventFilter = (event: QmpEvent) => boolean;

export class EventListener implements AsyncIterable<QmpEvent>, AsyncDisposable {
  private readonly queue: QmpEvent[] = [];
  private waiters: Array<(e: QmpEvent | null) => void> = [];
  private closed = false;
  readonly names: Set<string> | null;

  /**
   * `names` empty or omitted: every event. `filter` narrows further (e.g. on data.device).
   * `detach` is called once when the listener closes (its hub forgets it then).
   */
  constructor(
    names?: string | Iterable<string>,
    private readonly filter?: EventFilter,
    private readonly detach?: () => void,
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
    if (waiter) waiter(event);
    else this.queue.push(event);
  }

  /** Ends the iteration and unregisters the listener (idempotent); queued events stay readable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w(null);
    this.waiters = [];
    this.detach?.();
  }

  /** `await using l = client.listen(...)`: the listener goes with the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
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

  /**
   * The next event; `null` once the listener is closed and empty. Waits at most `timeoutMs`
   * (QMPTimeoutError; none when undefined) and until `signal` (AbortedError).
   */
  async next(opts: WaitOptions = {}): Promise<QmpEvent | null> {
    const queued = this.queue.shift();
    if (queued) return queued;
    if (this.closed) return null;
    const names = this.names ? [...this.names].join('|') : 'any event';
    return await qmpBounded(
      `QMP event ${names}`,
      opts,
      (signal) =>
        new Promise<QmpEvent | null>((resolve) => {
          const waiter = (e: QmpEvent | null): void => {
            signal.removeEventListener('abort', drop);
            resolve(e);
          };
          // a wait given up leaves no waiter behind to swallow the next event
          const drop = (): void => void (this.waiters = this.waiters.filter((w) => w !== waiter));
          signal.addEventListener('abort', drop, { once: true });
          this.waiters.push(waiter);
        }),
      (ms, cause) => new QMPTimeoutError(`no ${names} within ${ms} ms`, { timeoutMs: ms, cause }),
    );
  }

  /** Like next(), but a closed listener is an error (QMPExecInterruptedError): for callers that need the event. */
  async get(opts: WaitOptions = {}): Promise<QmpEvent> {
    const e = await this.next(opts);
    if (e === null) throw new QMPExecInterruptedError('event listener closed (connection lost) before the event arrived');
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

/** The listeners of one event source: what a QMP client (or a test's fake of one) keeps. */
export class EventHub {
  private readonly listeners = new Set<EventListener>();

  /** Registers a listener now; register it before the command whose events it must see. */
  listen(names?: string | Iterable<string>, filter?: EventFilter): EventListener {
    const l: EventListener = new EventListener(names, filter, () => this.listeners.delete(l));
    this.listeners.add(l);
    return l;
  }

  /** Closes `l` (which unregisters it). */
  removeListener(l: EventListener): void {
    l.close();
  }

  /** Hands `event` to every listener that accepts it. */
  deliver(event: QmpEvent): void {
    for (const l of [...this.listeners]) l.deliver(event);
  }

  /** Closes every listener (the source is gone). */
  closeAll(): void {
    for (const l of [...this.listeners]) l.close();
  }

  /** How many listeners are registered. */
  get size(): number {
    return this.listeners.size;
  }
}
