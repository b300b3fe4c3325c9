/**
 * The transport half of the QMP client, after qemu's python/qemu/qmp/protocol.py: a run-state
 * machine (IDLE → CONNECTING → RUNNING → DISCONNECTING → IDLE) around one stream socket (unix path
 * or TCP host:port), a reader that turns bytes into messages whatever the chunking, and one place
 * where the connection ends (on request, on EOF or on a protocol violation).
 */
import { createConnection, type Socket } from 'node:net';
import { BadReplyError, ConnectError, GreetingError, NegotiationError, ProtocolError, StateError, TimeoutError } from './errors.js';
import { encodeMessage, LineSplitter, parseMessage, type QmpMessage } from './message.js';

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

export interface ConnectOptions {
  /** Keep retrying a refused/missing socket for this long (QEMU creates it a little after exec). */
  retryMs?: number;
  /** Time allowed for the greeting and negotiation. Default 10 s. */
  timeoutMs?: number;
}

export abstract class AsyncProtocol {
  private state: Runstate = Runstate.IDLE;
  private socket: Socket | null = null;
  private splitter = new LineSplitter();
  private sessionQueue: QmpMessage[] = [];
  private sessionWaiter: ((m: QmpMessage | Error) => void) | null = null;
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
    this.splitter = new LineSplitter();
    this.sessionQueue = [];
    this.setState(Runstate.CONNECTING);
    try {
      this.socket = await openSocket(address, opts.retryMs ?? 0);
    } catch (e) {
      this.setState(Runstate.IDLE);
      throw new ConnectError(`cannot connect to QMP at ${formatAddress(address)}: ${(e as Error).message}`, { cause: e });
    }
    const sock = this.socket;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.connectionLost(err));
    sock.on('close', () => this.connectionLost(null));
    try {
      await withTimeout(this.establishSession(), opts.timeoutMs ?? 10_000, 'QMP session set-up');
    } catch (e) {
      await this.teardown(e as Error);
      if (e instanceof GreetingError || e instanceof NegotiationError || e instanceof BadReplyError) throw e;
      const hint =
        e instanceof TimeoutError ? ' (a QEMU monitor serves one client at a time: is another one connected to it?)' : '';
      throw new ConnectError(`QMP session with ${formatAddress(address)} failed: ${(e as Error).message}${hint}`, { cause: e });
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
  /** Every message once the session is RUNNING (and events during set-up). */
  protected abstract onMessage(msg: QmpMessage): void;
  /** Connection gone: fail whatever waits. */
  protected abstract onDisconnect(reason: Error | null): void;

  /** Messages during set-up; events are also handed to onEventDuringSetup. */
  protected recvSession(): Promise<QmpMessage> {
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

  private onData(chunk: Buffer): void {
    for (const line of this.splitter.push(chunk)) {
      let msg: QmpMessage;
      try {
        msg = parseMessage(line);
      } catch (e) {
        void this.teardown(e as BadReplyError);
        return;
      }
      if (this.state === Runstate.CONNECTING) {
        if (typeof msg.event === 'string') {
          this.onMessage(msg);
          continue;
        }
        const w = this.sessionWaiter;
        this.sessionWaiter = null;
        if (w) w(msg);
        else this.sessionQueue.push(msg);
      } else if (this.state === Runstate.RUNNING) {
        this.onMessage(msg);
      }
    }
  }

  private connectionLost(err: Error | null): void {
    if (this.socket === null) return;
    const reason =
      err ?? new ProtocolError(`QMP connection to ${this.address ? formatAddress(this.address) : '?'} closed by the peer`);
    void this.teardown(reason);
  }

  private teardown(reason: Error | null): Promise<void> {
    if (this.closing) return this.closing;
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

async function openSocket(address: QmpAddress, retryMs: number): Promise<Socket> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = typeof address === 'string' ? createConnection({ path: address }) : createConnection(address);
        s.once('connect', () => {
          s.removeAllListeners('error');
          resolve(s);
        });
        s.once('error', (e) => {
          s.destroy();
          reject(e);
        });
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (Date.now() >= deadline || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
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
