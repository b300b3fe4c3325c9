/**
 * A thin QMP client (after qemu's python/qemu/qmp/qmp_client.py): greeting, `qmp_capabilities`,
 * `execute` with ids and per-command timeouts, events to listeners, HMP passthrough.
 */
import { EventListener, type EventFilter } from './events.js';
import {
  BadReplyError,
  ExecInterruptedError,
  ExecuteError,
  excerpt,
  NegotiationError,
  StateError,
  TimeoutError,
  UnexpectedReplyError,
} from './errors.js';
import { checkGreeting, isEvent, isReply, type QmpEvent, type QmpGreeting, type QmpMessage } from './message.js';
import { AsyncProtocol, Runstate, type ConnectOptions, type QmpAddress } from './protocol.js';

export interface ExecuteOptions {
  /** Milliseconds to wait for the reply; default the client's `defaultTimeoutMs`. 0: no limit. */
  timeout?: number;
}

interface Pending {
  sent: QmpMessage;
  resolve: (reply: QmpMessage) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/** One line of a trace of the session (for logs; see `onTrace`). */
export interface TraceEntry {
  dir: 'send' | 'recv';
  msg: QmpMessage;
  at: number;
}

/** How many dropped replies a client remembers (the newest); a peer could send any number. */
const DROPPED_REPLIES_KEPT = 32;

export class QMPClient extends AsyncProtocol {
  greeting: QmpGreeting | null = null;
  defaultTimeoutMs = 30_000;
  /**
   * Replies whose id matched no waiting command (e.g. after that command timed out), newest
   * last, at most DROPPED_REPLIES_KEPT of them; `droppedCount` counts them all.
   */
  readonly droppedReplies: UnexpectedReplyError[] = [];
  droppedCount = 0;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<EventListener>();
  private tracer: ((t: TraceEntry) => void) | null = null;

  constructor(readonly name = 'qmp') {
    super();
  }

  /** Connects and negotiates in one call. */
  static async open(address: QmpAddress, opts: ConnectOptions & { name?: string } = {}): Promise<QMPClient> {
    const c = new QMPClient(opts.name);
    await c.connect(address, opts);
    return c;
  }

  onTrace(cb: (t: TraceEntry) => void): void {
    this.tracer = cb;
  }

  protected async establishSession(): Promise<void> {
    this.greeting = null;
    const first = await this.recvSession();
    this.trace('recv', first.msg);
    this.greeting = checkGreeting(first.msg, first.raw);
    const id = this.newId();
    const sent: QmpMessage = { execute: 'qmp_capabilities', id };
    this.sendTraced(sent);
    const { msg: reply, raw } = await this.recvSession();
    this.trace('recv', reply);
    if (!isReply(reply) || reply.id !== id) {
      throw new NegotiationError(`unexpected reply to qmp_capabilities: ${excerpt(raw, 200)}`, raw);
    }
    if ('error' in reply) {
      throw new NegotiationError(`qmp_capabilities refused: ${excerpt(raw, 200)}`, raw);
    }
  }

  /** The QEMU version from the greeting, e.g. "7.2.9". */
  get qemuVersion(): string {
    const v = this.greeting?.QMP.version.qemu;
    return v ? `${v.major}.${v.minor}.${v.micro}` : 'unknown';
  }

  /** Sends a command and returns its `return` value; an {"error"} reply throws ExecuteError. */
  async execute<T = unknown>(cmd: string, args?: Record<string, unknown>, opts: ExecuteOptions = {}): Promise<T> {
    const msg: QmpMessage = { execute: cmd };
    if (args !== undefined && Object.keys(args).length > 0) msg.arguments = args;
    const { sent, reply } = await this.executeMsg(msg, opts);
    if ('error' in reply) throw new ExecuteError(sent, reply);
    return reply.return as T;
  }

  /** Sends a message as is (an id is added) and returns the whole reply, error or not. */
  executeMsg(msg: QmpMessage, opts: ExecuteOptions = {}): Promise<{ sent: QmpMessage; reply: QmpMessage }> {
    if (this.runstate !== Runstate.RUNNING) {
      return Promise.reject(new StateError(`${String(msg.execute)}: QMP client ${this.name} is ${this.runstate}`, this.runstate));
    }
    const id = this.newId();
    const sent: QmpMessage = { ...msg, id };
    const timeout = opts.timeout ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const p: Pending = { sent, resolve: (reply) => resolve({ sent, reply }), reject };
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new TimeoutError(`${String(msg.execute)}: no reply from ${this.name} within ${timeout} ms`, sent));
        }, timeout);
      }
      this.pending.set(id, p);
      try {
        this.sendTraced(sent);
      } catch (e) {
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        reject(e as Error);
      }
    });
  }

  /** HMP passthrough (human-monitor-command); returns the monitor's text output. */
  async hmp(commandLine: string, opts: ExecuteOptions = {}): Promise<string> {
    const out = await this.execute<unknown>('human-monitor-command', { 'command-line': commandLine }, opts);
    if (typeof out !== 'string') {
      const got = String(JSON.stringify(out));
      throw new BadReplyError(`human-monitor-command returned ${excerpt(got, 200)}, not a string`, got);
    }
    return out;
  }

  /** Registers a listener now; register it before the command whose events it must see. */
  listen(names?: string | Iterable<string>, filter?: EventFilter): EventListener {
    const l = new EventListener(names, filter);
    this.listeners.add(l);
    return l;
  }

  removeListener(l: EventListener): void {
    this.listeners.delete(l);
    l.close();
  }

  /** Registers a listener, runs `trigger`, and returns the first matching event. */
  async executeAndWait(
    event: string,
    trigger: () => Promise<unknown>,
    opts: { timeout?: number; filter?: EventFilter } = {},
  ): Promise<QmpEvent> {
    const l = this.listen(event, opts.filter);
    try {
      await trigger();
      return await l.get(opts.timeout ?? this.defaultTimeoutMs);
    } finally {
      this.removeListener(l);
    }
  }

  /** Throws (a BadReplyError) on a message that breaks the protocol: the session then ends. */
  protected onMessage(msg: QmpMessage, raw: string): void {
    this.trace('recv', msg);
    if (isEvent(msg)) {
      for (const l of this.listeners) l.deliver(msg);
      return;
    }
    if (!isReply(msg)) throw new BadReplyError(`QMP: neither reply nor event: ${excerpt(raw, 200)}`, raw);
    let key: unknown = msg.id;
    if (!('id' in msg)) {
      // QEMU answers a request it could not parse with an id-less error; it handles commands in
      // order, so that reply belongs to the oldest command still waiting. Every command we send
      // has an id, so an id-less *return* is no answer to anything of ours.
      if (!('error' in msg)) throw new BadReplyError(`QMP: a return without an id: ${excerpt(raw, 200)}`, raw);
      key = this.pending.keys().next().value;
    }
    const p = typeof key === 'string' ? this.pending.get(key) : undefined;
    if (!p) {
      // qmp-spec "Commands Responses": clients should drop responses with an unknown id
      this.droppedCount++;
      this.droppedReplies.push(new UnexpectedReplyError(raw, msg.id));
      if (this.droppedReplies.length > DROPPED_REPLIES_KEPT) this.droppedReplies.shift();
      return;
    }
    this.pending.delete(key as string);
    if (p.timer) clearTimeout(p.timer);
    p.resolve(msg);
  }

  protected onDisconnect(reason: Error | null): void {
    const why = reason ? `connection lost: ${reason.message}` : 'disconnected';
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ExecInterruptedError(`${String(p.sent.execute)}: ${why}`, p.sent, reason ?? undefined));
    }
    this.pending.clear();
    for (const l of this.listeners) l.close();
    this.listeners.clear();
  }

  private trace(dir: TraceEntry['dir'], msg: QmpMessage): void {
    if (this.tracer) this.tracer({ dir, msg, at: Date.now() });
  }

  private sendTraced(msg: QmpMessage): void {
    this.trace('send', msg);
    this.send(msg);
  }

  private newId(): string {
    return `colo-xl-${++this.nextId}`;
  }
}
