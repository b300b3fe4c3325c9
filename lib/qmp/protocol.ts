/**
 * The transport half of the QMP client, after qemu's python/qemu/qmp/protocol.py: a run-state
 * machine (IDLE → CONNECTING → RUNNING → DISCONNECTING → IDLE) around one stream socket (unix path
 * or TCP host:port), a reader that turns bytes into messages whatever the chunking, and one place
 * where the connection ends (on request, on EOF or on a protocol violation).
 */
import { createConnection, type Socket } from 'node:net';
import { ConnectError, ConnectionClosedError, ProtocolError, QMPError, StateError, TimeoutError, TruncatedMessageError } from './errors.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE_BYTES, LineSplitter, type QmpLimits } from './framing.js';
import { encodeMessage, parseMessage, type QmpMessage } from './message.js';

export enum Runstate {
  IDLE = 'IDLE',
  CONNECTING = 'CONNECTING',
  RUNNING = 'RUNNING',
  DISCONNECTING = 'DISCONNECTING',
}

/** A unix socket path, or a TCP endpoint. */
export type QmpAddress = string | { host: string; port: number };

export function formatAddress(address: QmpAddress): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

export interface ConnectOptions extends QmpLimits {
  /** Keep retrying a refused/missing socket for this long (QEMU creates it a little after exec). */
  retryMs?: number;
  /** Time allowed for the greeting and negotiation. Default 10 s. */
  timeoutMs?: number;
  /** Abandons the attempt (retries and set-up); disconnect() during connect does the same. */
  signal?: AbortSignal;
}

/** A message as parsed, with its line as received (for errors that must show what was sent). */
export interface Incoming {
  msg: QmpMessage;
  raw: string;
}

/** A peer gets this many messages ahead of the set-up before it counts as flooding. */
const MAX_SESSION_QUEUE = 8;

export abstract class AsyncProtocol {
  private state: Runstate = Runstate.IDLE;
  private socket: Socket | null = null;
  private splitter = new LineSplitter();
  private maxDepth = DEFAULT_MAX_DEPTH;
  private sessionQueue: Incoming[] = [];
  private sessionWaiter: ((m: Incoming | Error) => void) | null = null;
  /** The attempt in progress while CONNECTING: how to stop it, and the socket it is opening. */
  private connecting: { abort: AbortController; opened: Promise<unknown> } | null = null;
  private closing: Promise<void> | null = null;
  private stateListeners: Array<(s: Runstate) => void> = [];
  /** Why the last connection ended, if not on our request. */
  disconnectReason: Error | null = null;
  address: QmpAddress | null = null;

  get runstate(): Runstate {
    return this.state;
  }

  /** Called with each new run-state (for logging, or to notice an unexpected disconnect). */
  onRunstate(cb: (s: Runstate) => void): void {
    this.stateListeners.push(cb);
  }

  private setState(s: Runstate): void {
    this.state = s;
    for (const cb of this.stateListeners) cb(s);
  }

  async connect(address: QmpAddress, opts: ConnectOptions = {}): Promise<void> {
    if (this.state !== Runstate.IDLE) throw new StateError(`connect: already ${this.state}`, this.state);
    this.address = address;
    this.disconnectReason = null;
    this.splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.sessionQueue = [];
    // One controller per attempt, so that disconnect() (or the caller's signal) also stops the
    // retry loop: otherwise its timer outlives the client and keeps Node alive until retryMs.
    const abort = new AbortController();
    const onCallerAbort = (): void => abort.abort(opts.signal?.reason);
    if (opts.signal?.aborted) abort.abort(opts.signal.reason);
    opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const sock = await this.open(address, opts.retryMs ?? 0, abort);
      await this.setUp(sock, address, opts.timeoutMs ?? 10_000, abort.signal);
    } finally {
      opts.signal?.removeEventListener('abort', onCallerAbort);
      this.connecting = null;
    }
  }

  /** The CONNECTING half that has no socket yet: retries until it has one, or is aborted. */
  private async open(address: QmpAddress, retryMs: number, abort: AbortController): Promise<Socket> {
    const opened = openSocket(address, retryMs, abort.signal);
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
      throw new ConnectError(`cannot connect to QMP at ${formatAddress(address)}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Greeting and negotiation on a fresh socket; any failure leaves the client IDLE. */
  private async setUp(sock: Socket, address: QmpAddress, timeoutMs: number, signal: AbortSignal): Promise<void> {
    this.socket = sock;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.connectionLost(err));
    sock.on('close', () => this.connectionLost(null));
    // an abort during set-up ends the session like a disconnect(); the waiting step then fails
    const onAbort = (): void => void this.teardown(new ConnectError('QMP set-up abandoned', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await withTimeout(this.establishSession(), timeoutMs, 'QMP session set-up');
    } catch (e) {
      await this.teardown(e as Error);
      // the first reason wins: a step that failed because the session had already ended for
      // something the peer sent reports that, not its own StateError
      const why = this.disconnectReason ?? (e as Error);
      // what the peer sent was wrong: say so as is; a plain close or a timeout is a failed connect
      if (why instanceof ProtocolError && !(why instanceof ConnectionClosedError)) throw why;
      const hint =
        why instanceof TimeoutError ? ' (a QEMU monitor serves one client at a time: is another one connected to it?)' : '';
      throw new ConnectError(`QMP session with ${formatAddress(address)} failed: ${why.message}${hint}`, { cause: why });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (this.socket === null) {
      throw new ConnectError(`QMP at ${formatAddress(address)} closed during set-up`, { cause: this.disconnectReason });
    }
    this.setState(Runstate.RUNNING);
  }

  /** Ends the session (idempotent); pending commands fail with ExecInterruptedError. */
  async disconnect(): Promise<void> {
    await this.teardown(null);
  }

  /** Greeting and negotiation: reads with recvSession(), writes with send(). */
  protected abstract establishSession(): Promise<void>;
  /**
   * Every message once the session is RUNNING (and events during set-up). May throw: a
   * ProtocolError (or anything else) thrown here ends the session with that reason.
   */
  protected abstract onMessage(msg: QmpMessage, raw: string): void;
  /** Connection gone: fail whatever waits. */
  protected abstract onDisconnect(reason: Error | null): void;

  /** The next non-event message during set-up (events go to onMessage as they come). */
  protected recvSession(): Promise<Incoming> {
    const queued = this.sessionQueue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.socket === null) return Promise.reject(new ConnectError('connection closed during QMP set-up', { cause: this.disconnectReason }));
    return new Promise((resolve, reject) => {
      this.sessionWaiter = (m) => (m instanceof Error ? reject(m) : resolve(m));
    });
  }

  protected send(msg: QmpMessage): void {
    if (this.socket === null || this.state === Runstate.DISCONNECTING || this.state === Runstate.IDLE) {
      throw new StateError(`cannot send while ${this.state}`, this.state);
    }
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

  private dispatch(raw: string): void {
    const msg = parseMessage(raw, this.maxDepth);
    if (this.state === Runstate.CONNECTING) {
      if (typeof msg.event === 'string') {
        this.onMessage(msg, raw);
        return;
      }
      const w = this.sessionWaiter;
      this.sessionWaiter = null;
      if (w) w({ msg, raw });
      else if (this.sessionQueue.length < MAX_SESSION_QUEUE) this.sessionQueue.push({ msg, raw });
      else throw new ProtocolError(`QMP: more than ${MAX_SESSION_QUEUE} unsolicited messages during set-up`, raw);
    } else if (this.state === Runstate.RUNNING) {
      this.onMessage(msg, raw);
    }
  }

  private connectionLost(err: Error | null): void {
    if (this.socket === null) return;
    const where = this.address ? formatAddress(this.address) : '?';
    let reason: Error;
    if (err) reason = new ConnectionClosedError(`QMP connection to ${where} failed: ${err.message}`, '', { cause: err });
    else if (this.splitter.pendingBytes > 0) reason = new TruncatedMessageError(this.splitter.head(), this.splitter.pendingBytes);
    else reason = new ConnectionClosedError(`QMP connection to ${where} closed by the peer`);
    void this.teardown(reason);
  }

  private teardown(reason: Error | null): Promise<void> {
    if (this.closing) return this.closing;
    // still looking for the socket: stop the retries; connect() then fails with ConnectError
    if (this.socket === null && this.connecting && this.state === Runstate.CONNECTING) {
      this.connecting.abort.abort(reason ?? new ConnectError('disconnected while connecting'));
      // connect() awaited the same promise first, so it is back to IDLE when this resolves
      return this.connecting.opened.then(() => undefined);
    }
    if (this.state === Runstate.IDLE && this.socket === null) return Promise.resolve();
    this.closing = (async () => {
      this.setState(Runstate.DISCONNECTING);
      if (reason) this.disconnectReason = reason;
      const sock = this.socket;
      this.socket = null;
      const w = this.sessionWaiter;
      this.sessionWaiter = null;
      if (w) w(reason ?? new ConnectError('disconnected during QMP set-up'));
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

async function openSocket(address: QmpAddress, retryMs: number, signal: AbortSignal): Promise<Socket> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    signal.throwIfAborted();
    try {
      return await new Promise<Socket>((resolve, reject) => {
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
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (signal.aborted || Date.now() >= deadline || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
      await sleep(20, signal).catch(() => undefined);
    }
  }
}

/** A pause that an abort cuts short (and whose timer then goes with it). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
