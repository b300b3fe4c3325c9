/**
 * A thin QMP client (after qemu's python/qemu/qmp/qmp_client.py): greeting, `qmp_capabilities`,
 * `execute` with ids and per-command timeouts, events to listeners, HMP passthrough.
 */
import { EventListener, type EventFilter } from './events.js';
import {
  BadReplyError,
  ExecInterruptedError,
  ExecuteError,
  GreetingError,
  NegotiationError,
  StateError,
  TimeoutError,
} from './errors.js';
import { isEvent, isGreeting, isReply, type QmpEvent, type QmpGreeting, type QmpMessage } from './message.js';
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

export class QMPClient extends AsyncProtocol {
  greeting: QmpGreeting | null = null;
  defaultTimeoutMs = 30_000;
  /** Replies whose id matched no waiting command (e.g. after that command timed out). */
  droppedReplies: QmpMessage[] = [];
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
    const greeting = await this.recvSession();
    if (this.tracer) this.tracer({ dir: 'recv', msg: greeting, at: Date.now() });
    if (!isGreeting(greeting)) {
      throw new GreetingError(`expected a QMP greeting, got ${JSON.stringify(greeting).slice(0, 200)}`, greeting);
    }
    this.greeting = greeting;
    const id = this.newId();
    const sent: QmpMessage = { execute: 'qmp_capabilities', id };
    this.sendTraced(sent);
    const reply = await this.recvSession();
    if (this.tracer) this.tracer({ dir: 'recv', msg: reply, at: Date.now() });
    if (!isReply(reply) || reply.id !== id) {
      throw new NegotiationError(`unexpected reply to qmp_capabilities: ${JSON.stringify(reply).slice(0, 200)}`, reply);
    }
    if ('error' in reply) {
      throw new NegotiationError(`qmp_capabilities refused: ${JSON.stringify(reply.error)}`, reply);
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
      throw new BadReplyError(`human-monitor-command returned ${JSON.stringify(out)}, not a string`, out);
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

  protected onMessage(msg: QmpMessage): void {
    if (this.tracer) this.tracer({ dir: 'recv', msg, at: Date.now() });
    if (isEvent(msg)) {
      for (const l of this.listeners) l.deliver(msg);
      return;
    }
    if (!isReply(msg)) {
      this.failAll(new BadReplyError(`QMP: neither reply nor event: ${JSON.stringify(msg).slice(0, 200)}`, msg));
      return;
    }
    // QEMU answers a request it could not parse with an id-less error; it handles commands in
    // order, so that reply belongs to the oldest command still waiting.
    const key = 'id' in msg ? (msg.id as string) : this.pending.keys().next().value;
    const p = key === undefined ? undefined : this.pending.get(key);
    if (!p) {
      this.droppedReplies.push(msg);
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

  private failAll(e: Error): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }

  private sendTraced(msg: QmpMessage): void {
    if (this.tracer) this.tracer({ dir: 'send', msg, at: Date.now() });
    this.send(msg);
  }

  private newId(): string {
    return `colo-xl-${++this.nextId}`;
  }
}
