/**
 * The control channel between `colo-xl migrate` and `colo-xl migrate-receive`: one JSON object per
 * line over a pair of byte streams, as xl runs `ssh <host> xl migrate-receive` and talks over the
 * ssh pipe. The source sends requests ({"op": …}) one at a time and reads one reply each
 * ({"ok": true, …} or {"ok": false, "error": …}); the destination may also send notices
 * ({"notice": …}) at any time, e.g. when its QEMU died. Disk data and memory never cross it: they
 * go over NBD and QEMU's own migration stream.
 */
import type { Readable } from 'node:stream';
import { AbortedError } from '../errors.js';
import { Subscribers } from '../util/subscribers.js';
import { throwIfAborted, type WaitOptions } from '../util/wait.js';
import { MigrateChannelError } from './types.js';

export type ChannelMessage = Record<string, unknown>;

/**
 * Splits a byte stream into JSON lines and hands each parsed object on; returns the function
 * that stops reading (its listeners leave `input`, and `onEnd` is not called after it).
 */
export function readJsonLines(input: Readable, onMessage: (m: ChannelMessage) => void, onEnd: (why: string) => void): () => void {
  let buf = '';
  let ended = false;
  const end = (why: string): void => {
    if (!ended) {
      ended = true;
      onEnd(why);
    }
  };
  input.setEncoding('utf8');
  const onData = (chunk: string): void => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        // an ssh banner or a stray diagnostic on the pipe is not a protocol message
        continue;
      }
      if (typeof m === 'object' && m !== null && !Array.isArray(m)) onMessage(m as ChannelMessage);
    }
  };
  const onClosed = (): void => end('control channel closed by the other side');
  const onError = (e: Error): void => end(`control channel error: ${e.message}`);
  input.on('data', onData);
  input.on('end', onClosed);
  input.on('close', onClosed);
  input.on('error', onError);
  return () => {
    ended = true;
    input.off('data', onData);
    input.off('end', onClosed);
    input.off('close', onClosed);
    input.off('error', onError);
  };
}

/** How long request() waits for a reply when the caller gives no timeoutMs. */
export const REQUEST_TIMEOUT_MS = 120_000;

/** The source's end: requests with replies, plus notices from the destination. */
export class ControlClient {
  private waiting: { resolve: (m: ChannelMessage) => void; reject: (e: Error) => void } | null = null;
  private closedWhy: string | null = null;
  private readonly notices = new Subscribers<ChannelMessage>();
  private readonly closes = new Subscribers<string>();
  private readonly stopReading: () => void;

  constructor(
    input: Readable,
    private readonly write: (line: string) => void,
  ) {
    this.stopReading = readJsonLines(
      input,
      (m) => {
        if ('notice' in m) {
          this.notices.emit(m);
          return;
        }
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(m);
      },
      (why) => {
        this.closedWhy = why;
        const w = this.waiting;
        this.waiting = null;
        w?.reject(new MigrateChannelError('MIGRATE_CHANNEL_CLOSED', why));
        this.closes.emit(why);
      },
    );
  }

  /**
   * Stops reading the channel (the streams themselves stay the caller's); a request still
   * waiting fails with MIGRATE_CHANNEL_CLOSED and the handlers are dropped. Idempotent.
   */
  close(why = 'control channel closed by this side'): void {
    this.stopReading();
    this.closedWhy ??= why;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(new MigrateChannelError('MIGRATE_CHANNEL_CLOSED', this.closedWhy));
    this.notices.clear();
    this.closes.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  get closed(): string | null {
    return this.closedWhy;
  }

  /** Calls `h` with each notice from the destination; returns the unsubscriber. */
  onNotice(h: (m: ChannelMessage) => void): () => void {
    return this.notices.add(h);
  }

  /** Calls `h` once the channel closes; returns the unsubscriber. */
  onClose(h: (why: string) => void): () => void {
    return this.closes.add(h);
  }

  /**
   * Sends `{op, ...body}` and returns the reply; `{ok:false}` and a lost channel throw
   * (MigrateChannelError). Waits at most `timeoutMs` (default 2 min); the caller's signal gives
   * the wait up (AbortedError), and a reply that comes later is dropped.
   */
  async request(op: string, body: ChannelMessage = {}, o: WaitOptions = {}): Promise<ChannelMessage> {
    throwIfAborted(o.signal, `control channel: ${op}`);
    if (this.closedWhy !== null) throw new MigrateChannelError('MIGRATE_CHANNEL_CLOSED', this.closedWhy);
    if (this.waiting) throw new MigrateChannelError('MIGRATE_CHANNEL_BUSY', `control channel: ${op} sent while a request is pending`);
    const timeoutMs = o.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const reply = await new Promise<ChannelMessage>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
      };
      const giveUp = (e: Error): void => {
        this.waiting = null;
        settle();
        reject(e);
      };
      const timer = setTimeout(() => giveUp(new MigrateChannelError('MIGRATE_CHANNEL_TIMEOUT', `destination gave no reply to ${op} within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => giveUp(new AbortedError(`control channel: ${op}`, { cause: o.signal?.reason }));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting = {
        resolve: (m) => {
          settle();
          resolve(m);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      };
      this.write(JSON.stringify({ op, ...body }) + '\n');
    });
    if (reply.ok !== true) throw new MigrateChannelError('MIGRATE_REMOTE_ERROR', `destination: ${typeof reply.error === 'string' ? reply.error : JSON.stringify(reply)}`);
    return reply;
  }
}
