/**
 * The transport half of the QMP client, after qemu's python/qemu/qmp/protocol.py: a run-state
 * machine (IDLE → CONNECTING → RUNNING → DISCONNECTING → IDLE) around one byte stream, a reader
 * that turns bytes into messages whatever the chunking, and one place where the connection ends
 * (on request, on EOF or on a protocol violation). The stream is a socket to a unix path or TCP
 * host:port by default, or whatever Duplex the caller injects (pg's `config.stream`): a TLS
 * socket, or an in-memory pair in tests.
 */
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { AbortedError } from '../errors.js';
import { scopedLogger, silentLogger, type Logger } from '../util/log.js';
import { sleep, throwIfAborted, type WaitOptions } from '../util/wait.js';
import { qmpBounded } from './deadline.js';
import {
  QMPConnectError,
  QMPConnectionClosedError,
  QMPError,
  QMPProtocolError,
  QMPStateError,
  QMPTimeoutError,
  QMPTruncatedMessageError,
} from './errors.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES, LineSplitter, type QmpLimits } from './framing.js';
import { encodeMessage, parseMessage } from './message.js';
import type { QmpMessage } from './types.js';

export enum Runstate {
  IDLE = 'IDLE',
  CONNECTING = 'CONNECTING',
  RUNNING = 'RUNNING',
  DISCONNECTING = 'DISCONNECTING',
}

/** A unix socket path, or a TCP endpoint. With an injected stream, only the session's name. */
export type QmpAddress = string | { host: string; port: number };

export function formatAddress(address: QmpAddress): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

/**
 * Opens the stream for one connection attempt (a TLS socket, a test's in-memory pair...). A
 * rejection with code ENOENT or ECONNREFUSED is retried for `retryMs`, as the default socket is;
 * the stream returned belongs to the client, which destroys it when the session ends.
 */
export type QmpStreamFactory = (address: QmpAddress, signal: AbortSignal) => Duplex | Promise<Duplex>;

export interface ConnectOptions extends QmpLimits, WaitOptions {
  /** Keep retrying a refused/missing socket for this long (QEMU creates it a little after exec). */
  retryMs?: number;
  /** Time allowed for the greeting and negotiation (QMPTimeoutError as the cause). Default 10 s. */
  timeoutMs?: number;
  /**
   * Abandons the attempt (retries and set-up) with an AbortedError; disconnect() during connect
   * does the same with a QMPConnectError.
   */
  signal?: AbortSignal;
  /** Speak QMP on this stream (used once), or on the streams this factory opens, not on a socket. */
  stream?: Duplex | QmpStreamFactory;
}

/** A message as parsed, with its line as received (for errors that must show what was sent). */
export interface Incoming {
  msg: QmpMessage;
  raw: string;
}

/**
 * The fields of each debug line the client logs per message (see QMPClient's `logger`): which
 * way it went, the message, and when (ms since the epoch).
 */
export interface TraceEntry {
  dir: 'send' | 'recv';
  msg: QmpMessage;
  at: number;
}

/** A peer gets this many messages ahead of the set-up before it counts as flooding. */
const MAX_SESSION_QUEUE = 8;
/** The set-up's default bound: a live QEMU greets at once, a hung or busy monitor never does. */
const DEFAULT_SETUP_MS = 10_000;

export abstract class AsyncProtocol implements AsyncDisposable {
  private state: Runstate = Runstate.IDLE;
  private socket: Duplex | null = null;
  private splitter = new LineSplitter();
  private maxDepth = DEFAULT_MAX_DEPTH;
  private sessionQueue: Incoming[] = [];
  private sessionWaiter: ((m: Incoming | Error) => void) | null = null;
  /** The attempt in progress while CONNECTING: how to stop it, and the stream it is opening. */
  private connecting: { abort: AbortController; opened: Promise<unknown> } | null = null;
  private closing: Promise<void> | null = null;
  private readonly stateListeners = new Set<(s: Runstate) => void>();
  /** The connection's logger: the injected one, scoped to `qmp <address>` at connect. */
  protected log: Logger = silentLogger;
  /** Why the last connection ended, if not on our request. */
  disconnectReason: Error | null = null;
  address: QmpAddress | null = null;

  constructor(private readonly logger?: Logger) {}

  get runstate(): Runstate {
    return this.state;
  }

  /**
   * Calls `cb` with each new run-state (for logging, or to notice an unexpected disconnect);
   * returns the function that unsubscribes it.
   */
  onRunstate(cb: (s: Runstate) => void): () => void {
    this.stateListeners.add(cb);
    return () => void this.stateListeners.delete(cb);
  }

  private setState(s: Runstate): void {
    this.state = s;
    this.log.debug('runstate', { state: s });
    for (const cb of [...this.stateListeners]) cb(s);
  }

  async connect(address: QmpAddress, opts: ConnectOptions = {}): Promise<void> {
    if (this.state !== Runstate.IDLE) throw new QMPStateError(`connect: already ${this.state}`, this.state);
    throwIfAborted(opts.signal, 'QMP connect');
    this.address = address;
    this.log = scopedLogger(this.logger, `qmp ${formatAddress(address)}`);
    this.disconnectReason = null;
    this.splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.sessionQueue = [];
    // One controller per attempt, so that disconnect() (or the caller's signal) also stops the
    // retry loop: otherwise its timer outlives the client and keeps Node alive until retryMs.
    const abort = new AbortController();
    const onCallerAbort = (): void => abort.abort(new AbortedError('QMP connect', { cause: opts.signal?.reason }));
    opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const sock = await this.open(address, opts, abort);
      await this.setUp(sock, address, opts.timeoutMs ?? DEFAULT_SETUP_MS, abort.signal);
    } finally {
      opts.signal?.removeEventListener('abort', onCallerAbort);
      this.connecting = null;
    }
  }

  /** The CONNECTING half that has no stream yet: retries until it has one, or is aborted. */
  private async open(address: QmpAddress, opts: ConnectOptions, abort: AbortController): Promise<Duplex> {
    const opened = openStream(address, opts, abort.signal);
    this.connecting = { abort, opened: opened.catch(() => undefined) };
    this.setState(Runstate.CONNECTING);
    try {
      const sock = await opened;
      if (abort.signal.aborted) {
        sock.destroy();
        throw abort.signal.reason;
      }
      return sock;
    } catch (e) {
      this.setState(Runstate.IDLE);
      if (abort.signal.reason instanceof AbortedError) throw abort.signal.reason;
      throw new QMPConnectError(`cannot connect to QMP at ${formatAddress(address)}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Greeting and negotiation on a fresh stream; any failure leaves the client IDLE. */
  private async setUp(sock: Duplex, address: QmpAddress, timeoutMs: number, signal: AbortSignal): Promise<void> {
    this.socket = sock;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.connectionLost(err));
    // 'end' too: an injected stream may stay open for writing after its peer ended (no 'close')
    sock.on('end', () => this.connectionLost(null));
    sock.on('close', () => this.connectionLost(null));
    // an abort during set-up ends the session like a disconnect(); the waiting step then fails
    const onAbort = (): void => void this.teardown(signal.reason instanceof Error ? signal.reason : new QMPConnectError('QMP set-up abandoned'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await qmpBounded('QMP session set-up', { timeoutMs }, () => this.establishSession(), (ms, cause) =>
        new QMPTimeoutError(`QMP session set-up: no answer within ${ms} ms`, { timeoutMs: ms, cause }),
      );
    } catch (e) {
      await this.teardown(e as Error);
      // the first reason wins: a step that failed because the session had already ended for
      // something the peer sent reports that, not its own QMPStateError
      const why = this.disconnectReason ?? (e as Error);
      if (why instanceof AbortedError) throw why;
      // what the peer sent was wrong: say so as is; a plain close or a timeout is a failed connect
      if (why instanceof QMPProtocolError && !(why instanceof QMPConnectionClosedError)) throw why;
      const hint =
        why instanceof QMPTimeoutError ? ' (a QEMU monitor serves one client at a time: is another one connected to it?)' : '';
      throw new QMPConnectError(`QMP session with ${formatAddress(address)} failed: ${why.message}${hint}`, { cause: why });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (this.socket === null) {
      throw new QMPConnectError(`QMP at ${formatAddress(address)} closed during set-up`, { cause: this.disconnectReason });
    }
    this.setState(Runstate.RUNNING);
  }

  /** Ends the session (idempotent); pending commands fail with QMPExecInterruptedError. */
  async disconnect(): Promise<void> {
    await this.teardown(null);
  }

  /** `await using client = ...`: the session ends with the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Greeting and negotiation: reads with recvSession(), writes with send(). */
  protected abstract establishSession(): Promise<void>;
  /**
   * Every message once the session is RUNNING (and events during set-up). May throw: a
   * QMPProtocolError (or anything else) thrown here ends the session with that reason.
   */
  protected abstract onMessage(msg: QmpMessage, raw: string): void;
  /** Connection gone: fail whatever waits. */
  protected abstract onDisconnect(reason: Error | null): void;

  /** The next non-event message during set-up (events go to onMessage as they come). */
  protected recvSession(): Promise<Incoming> {
    const queued = this.sessionQueue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.socket === null) return Promise.reject(new QMPConnectError('connection closed during QMP set-up', { cause: this.disconnectReason }));
    return new Promise((resolve, reject) => {
      this.sessionWaiter = (m) => (m instanceof Error ? reject(m) : resolve(m));
    });
  }

  protected send(msg: QmpMessage): void {
    if (this.socket === null || this.state === Runstate.DISCONNECTING || this.state === Runstate.IDLE) {
      throw new QMPStateError(`cannot send while ${this.state}`, this.state);
    }
    this.trace('send', msg);
    this.socket.write(encodeMessage(msg));
  }

  /**
   * The socket's data handler: nothing may escape it (an exception here would be an uncaught one
   * and end the process), so whatever goes wrong with a peer's input ends the session instead.
   */
  private onData(chunk: Buffer): void {
    for (const line of this.splitter.push(chunk)) {
      if (this.socket === null) return;
      try {
        this.dispatch(line);
      } catch (e) {
        const reason = e instanceof QMPError ? e : new QMPError(`QMP: handling a message failed: ${(e as Error).message}`, { cause: e });
        void this.teardown(reason);
        return;
      }
    }
    if (this.splitter.error) void this.teardown(this.splitter.error);
  }

  /** One debug line per message, its fields a TraceEntry; nothing is built for a silent logger. */
  private trace(dir: TraceEntry['dir'], msg: QmpMessage): void {
    if (this.log !== silentLogger) this.log.debug(dir, { dir, msg, at: Date.now() } satisfies TraceEntry);
  }

  private dispatch(raw: string): void {
    const msg = parseMessage(raw, this.maxDepth);
    this.trace('recv', msg);
    if (this.state === Runstate.CONNECTING) {
      if (typeof msg.event === 'string') {
        this.onMessage(msg, raw);
        return;
      }
      const w = this.sessionWaiter;
      this.sessionWaiter = null;
      if (w) w({ msg, raw });
      else if (this.sessionQueue.length < MAX_SESSION_QUEUE) this.sessionQueue.push({ msg, raw });
      else throw new QMPProtocolError(`QMP: more than ${MAX_SESSION_QUEUE} unsolicited messages during set-up`, raw);
    } else if (this.state === Runstate.RUNNING) {
      this.onMessage(msg, raw);
    }
  }

  private connectionLost(err: Error | null): void {
    if (this.socket === null) return;
    const where = this.address ? formatAddress(this.address) : '?';
    let reason: Error;
    if (err) reason = new QMPConnectionClosedError(`QMP connection to ${where} failed: ${err.message}`, '', { cause: err });
    else if (this.splitter.pendingBytes > 0) reason = new QMPTruncatedMessageError(this.splitter.head(), this.splitter.pendingBytes);
    else reason = new QMPConnectionClosedError(`QMP connection to ${where} closed by the peer`);
    void this.teardown(reason);
  }

  private teardown(reason: Error | null): Promise<void> {
    if (this.closing) return this.closing;
    // still looking for the socket: stop the retries; connect() then fails with QMPConnectError
    if (this.socket === null && this.connecting && this.state === Runstate.CONNECTING) {
      this.connecting.abort.abort(reason ?? new QMPConnectError('disconnected while connecting'));
      // connect() awaited the same promise first, so it is back to IDLE when this resolves
      return this.connecting.opened.then(() => undefined);
    }
    if (this.state === Runstate.IDLE && this.socket === null) return Promise.resolve();
    this.closing = (async () => {
      this.setState(Runstate.DISCONNECTING);
      if (reason) {
        this.disconnectReason = reason;
        this.log.warn('session ended', { code: (reason as { code?: unknown }).code, reason: reason.message });
      }
      const sock = this.socket;
      this.socket = null;
      const w = this.sessionWaiter;
      this.sessionWaiter = null;
      if (w) w(reason ?? new QMPConnectError('disconnected during QMP set-up'));
      this.onDisconnect(reason);
      if (sock && !sock.destroyed) {
        await new Promise<void>((resolve) => {
          sock.once('close', () => resolve());
          sock.destroy();
        });
      }
      this.setState(Runstate.IDLE);
    })();
    const p = this.closing;
    void p.finally(() => {
      if (this.closing === p) this.closing = null;
    });
    return p;
  }
}

/** The stream for one attempt: the injected one, or the factory's (a socket by default), retried. */
async function openStream(address: QmpAddress, opts: ConnectOptions, signal: AbortSignal): Promise<Duplex> {
  const given = opts.stream;
  if (given !== undefined && typeof given !== 'function') return given;
  const factory = given ?? openSocket;
  const deadline = Date.now() + (opts.retryMs ?? 0);
  for (;;) {
    signal.throwIfAborted();
    try {
      return await factory(address, signal);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (signal.aborted || Date.now() >= deadline || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
      await sleep(20, { signal }).catch(() => undefined);
    }
  }
}

/** The default factory: a unix or TCP socket, handed over once it is connected. */
function openSocket(address: QmpAddress, signal: AbortSignal): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    const s = typeof address === 'string' ? createConnection({ path: address }) : createConnection(address);
    const onAbort = (): void => {
      s.destroy();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      reject(e);
    });
  });
}
