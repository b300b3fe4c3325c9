/**
 * A thin QMP client (after qemu's python/qemu/qmp/qmp_client.py): greeting, `qmp_capabilities`,
 * `execute` with ids and bounded, cancellable waits, events to listeners, HMP passthrough. Traffic
 * is observed through the injected logger: one debug line per message, fields a TraceEntry.
 */
import type { Logger } from '../util/log.js';
import type { WaitOptions } from '../util/wait.js';
import { qmpBounded } from './deadline.js';
import {
  excerpt,
  QMPBadReplyError,
  QMPExecInterruptedError,
  QMPExecuteError,
  QMPNegotiationError,
  QMPStateError,
  QMPTimeoutError,
  QMPUnexpectedReplyError,
} from './errors.js';
import { EventHub, type EventFilter, type EventListener } from './events.js';
import { checkGreeting, isEvent, isReply } from './message.js';
import { AsyncProtocol, Runstate, type ConnectOptions, type QmpAddress } from './protocol.js';
import type { QmpEvent, QmpGreeting, QmpMessage } from './types.js';

/**
 * A command's wait: `timeoutMs` defaults to the client's `defaultTimeoutMs` (Infinity: no limit),
 * `signal` gives the wait up with an AbortedError (the reply, if it comes, is then dropped).
 */
export type ExecuteOptions = WaitOptions;

export interface QMPClientOptions {
  /** Names the client in error messages (e.g. "primary"). Default "qmp". */
  name?: string;
  /** Receives the session's log lines, scoped `qmp <address>`; see TraceEntry. Default: none. */
  logger?: Logger;
  /** The bound of a command without its own `timeoutMs`. Default 30 s. */
  defaultTimeoutMs?: number;
  /** How many dropped replies `droppedReplies` keeps (the newest). Default 32. */
  droppedRepliesKept?: number;
}

interface Pending {
  sent: QmpMessage;
  resolve: (reply: QmpMessage) => void;
  reject: (e: Error) => void;
}

export class QMPClient extends AsyncProtocol {
  readonly name: string;
  greeting: QmpGreeting | null = null;
  defaultTimeoutMs: number;
  /**
   * Replies whose id matched no waiting command (e.g. after that command timed out), newest
   * last, at most `droppedRepliesKept` of them; `droppedCount` counts them all.
   */
  readonly droppedReplies: QMPUnexpectedReplyError[] = [];
  droppedCount = 0;
  private readonly droppedRepliesKept: number;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly events = new EventHub();

  /** `opts` as a string: just the name (the older form). */
  constructor(opts: string | QMPClientOptions = {}) {
    const o = typeof opts === 'string' ? { name: opts } : opts;
    super(o.logger);
    this.name = o.name ?? 'qmp';
    this.defaultTimeoutMs = o.defaultTimeoutMs ?? 30_000;
    this.droppedRepliesKept = o.droppedRepliesKept ?? 32;
  }

  /** Connects and negotiates in one call. */
  static async open(address: QmpAddress, opts: ConnectOptions & QMPClientOptions = {}): Promise<QMPClient> {
    const c = new QMPClient(opts);
    await c.connect(address, opts);
    return c;
  }

  protected async establishSession(): Promise<void> {
    this.greeting = null;
    const first = await this.recvSession();
    this.greeting = checkGreeting(first.msg, first.raw);
    const id = this.newId();
    this.send({ execute: 'qmp_capabilities', id });
    const { msg: reply, raw } = await this.recvSession();
    if (!isReply(reply) || reply.id !== id) {
      throw new QMPNegotiationError(`unexpected reply to qmp_capabilities: ${excerpt(raw, 200)}`, raw);
    }
    if ('error' in reply) {
      throw new QMPNegotiationError(`qmp_capabilities refused: ${excerpt(raw, 200)}`, raw);
    }
    this.log.info('connected', { name: this.name, qemu: this.qemuVersion });
  }

  /** The QEMU version from the greeting, e.g. "7.2.9". */
  get qemuVersion(): string {
    const v = this.greeting?.QMP.version.qemu;
    return v ? `${v.major}.${v.minor}.${v.micro}` : 'unknown';
  }

  /** Sends a command and returns its `return` value; an {"error"} reply throws QMPExecuteError. */
  async execute<T = unknown>(cmd: string, args?: Record<string, unknown>, opts: ExecuteOptions = {}): Promise<T> {
    const msg: QmpMessage = { execute: cmd };
    if (args !== undefined && Object.keys(args).length > 0) msg.arguments = args;
    const { sent, reply } = await this.executeMsg(msg, opts);
    if ('error' in reply) throw new QMPExecuteError(sent, reply);
    return reply.return as T;
  }

  /** Sends a message as is (an id is added) and returns the whole reply, error or not. */
  async executeMsg(msg: QmpMessage, opts: ExecuteOptions = {}): Promise<{ sent: QmpMessage; reply: QmpMessage }> {
    const cmd = String(msg.execute);
    if (this.runstate !== Runstate.RUNNING) {
      throw new QMPStateError(`${cmd}: QMP client ${this.name} is ${this.runstate}`, this.runstate);
    }
    const id = this.newId();
    const sent: QmpMessage = { ...msg, id };
    const reply = await qmpBounded(
      `QMP ${cmd}`,
      { signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.defaultTimeoutMs },
      (signal) =>
        new Promise<QmpMessage>((resolve, reject) => {
          // a wait given up forgets its command: a late reply is then dropped like any stray one
          const forget = (): void => void this.pending.delete(id);
          signal.addEventListener('abort', forget, { once: true });
          const done = (): void => signal.removeEventListener('abort', forget);
          this.pending.set(id, {
            sent,
            resolve: (r) => (done(), resolve(r)),
            reject: (e) => (done(), reject(e)),
          });
          try {
            this.send(sent);
          } catch (e) {
            forget();
            done();
            reject(e as Error);
          }
        }),
      (ms, cause) => new QMPTimeoutError(`${cmd}: no reply from ${this.name} within ${ms} ms`, { sent, timeoutMs: ms, cause }),
    );
    return { sent, reply };
  }

  /** HMP passthrough (human-monitor-command); returns the monitor's text output. */
  async hmp(commandLine: string, opts: ExecuteOptions = {}): Promise<string> {
    const out = await this.execute<unknown>('human-monitor-command', { 'command-line': commandLine }, opts);
    if (typeof out !== 'string') {
      const got = String(JSON.stringify(out));
      throw new QMPBadReplyError(`human-monitor-command returned ${excerpt(got, 200)}, not a string`, got);
    }
    return out;
  }

  /** Registers a listener now; register it before the command whose events it must see. */
  listen(names?: string | Iterable<string>, filter?: EventFilter): EventListener {
    return this.events.listen(names, filter);
  }

  /** Closes `l`; the same as `l.close()`. */
  removeListener(l: EventListener): void {
    this.events.removeListener(l);
  }

  /**
   * Registers a listener, runs `trigger`, and returns the first matching event; the wait for the
   * event is bounded by `timeoutMs` (default the client's) and `signal`.
   */
  async executeAndWait(event: string, trigger: () => Promise<unknown>, opts: ExecuteOptions & { filter?: EventFilter } = {}): Promise<QmpEvent> {
    const l = this.listen(event, opts.filter);
    try {
      await trigger();
      return await l.get({ signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.defaultTimeoutMs });
    } finally {
      l.close();
    }
  }

  /** Throws (a QMPBadReplyError) on a message that breaks the protocol: the session then ends. */
  protected onMessage(msg: QmpMessage, raw: string): void {
    if (isEvent(msg)) {
      this.events.deliver(msg);
      return;
    }
    if (!isReply(msg)) throw new QMPBadReplyError(`QMP: neither reply nor event: ${excerpt(raw, 200)}`, raw);
    let key: unknown = msg.id;
    if (!('id' in msg)) {
      // QEMU answers a request it could not parse with an id-less error; it handles commands in
      // order, so that reply belongs to the oldest command still waiting. Every command we send
      // has an id, so an id-less *return* is no answer to anything of ours.
      if (!('error' in msg)) throw new QMPBadReplyError(`QMP: a return without an id: ${excerpt(raw, 200)}`, raw);
      key = this.pending.keys().next().value;
    }
    const p = typeof key === 'string' ? this.pending.get(key) : undefined;
    if (!p) {
      // qmp-spec "Commands Responses": clients should drop responses with an unknown id; a
      // peer could send any number, so only the newest few are kept, and all are counted
      this.droppedCount++;
      this.droppedReplies.push(new QMPUnexpectedReplyError(raw, msg.id));
      if (this.droppedReplies.length > this.droppedRepliesKept) this.droppedReplies.shift();
      this.log.debug('reply dropped', { id: msg.id, dropped: this.droppedCount });
      return;
    }
    this.pending.delete(key as string);
    p.resolve(msg);
  }

  protected onDisconnect(reason: Error | null): void {
    const why = reason ? `connection lost: ${reason.message}` : 'disconnected';
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(new QMPExecInterruptedError(`${String(p.sent.execute)}: ${why}`, p.sent, reason ?? undefined));
    this.events.closeAll();
  }

  private newId(): string {
    return `colo-xl-${++this.nextId}`;
  }
}
