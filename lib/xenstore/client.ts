/**
 * The xenstore client: requests over any {@link XsTransport}, pipelined and matched by req_id, as
 * mirage/ocaml-xenstore's client does it (the wire layer stays in messages.ts, the I/O in the
 * transport). Every request is bounded: by the client's default timeout, or by the caller's
 * {@link WaitOptions} on request() and transaction().
 * @module
 */
import { WaitTimeoutError } from '../errors.js';
import { scopedLogger, silentLogger, type Logger } from '../util/log.js';
import { abortReason, boundSignal, type WaitOptions } from '../util/wait.js';
import type { TransactionOptions, Xenstore, XsOps, XsWatch } from './api.js';
import {
  PAYLOAD_MAX,
  XsError,
  XsOp,
  XsTransactionConflict,
  formatPerm,
  isXsErrno,
  isXsError,
  joinStrings,
  opName,
  parsePerm,
  splitStrings,
  type Packet,
  type XsPerm,
} from './messages.js';
import type { XsTransport } from './transport.js';
import { WatchQueue } from './watch-queue.js';

export interface ClientOptions {
  /**
   * Default bound of each request in milliseconds (default 30 s; 0: none). A request without a
   * reply by then fails with WaitTimeoutError; request() may give its own.
   */
  timeoutMs?: number;
  /** Runs once the client has closed (openXenstore uses it to let go of the embedded store). */
  onClose?: () => void | Promise<void>;
  /** Where the client reports a lost connection, expired requests and stray replies. */
  logger?: Logger;
}

/** request()'s bounds (see {@link WaitOptions}); `nullOnE2big` makes an E2BIG reply resolve to null. */
export interface RequestOptions extends WaitOptions {
  nullOnE2big?: boolean;
}

interface Pending {
  resolve(b: Buffer | null): void;
  reject(e: Error): void;
  /** When the default bound expires (ms since epoch), or 0 when the request has its own bound or none. */
  deadline: number;
  op: number;
  path: string | undefined;
  /** Undoes a per-request timer or signal listener once the request settles. */
  release?: () => void;
}

/** Ops bound to one transaction id (0 = none). */
class BoundOps implements XsOps {
  constructor(
    private readonly owner: XsClient | null,
    readonly txId: number,
    /** A transaction's bound, given to each of its requests (none: the client's default). */
    private readonly wait?: WaitOptions,
  ) {}

  protected get client(): XsClient {
    return this.owner ?? (this as unknown as XsClient);
  }

  async readBuffer(path: string): Promise<Buffer> {
    return this.client.request(XsOp.READ, joinStrings([path]), this.txId, path, this.wait);
  }
  async read(path: string): Promise<string> {
    return (await this.readBuffer(path)).toString('utf8');
  }
  async tryRead(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (e) {
      if (isXsError(e, 'ENOENT')) return undefined;
      throw e;
    }
  }
  async exists(path: string): Promise<boolean> {
    try {
      await this.readBuffer(path);
      return true;
    } catch (e) {
      if (isXsError(e, 'ENOENT')) return false;
      throw e;
    }
  }
  async write(path: string, value: string | Buffer): Promise<void> {
    const payload = Buffer.concat([Buffer.from(`${path}\0`), typeof value === 'string' ? Buffer.from(value) : value]);
    await this.client.request(XsOp.WRITE, payload, this.txId, path, this.wait);
  }
  async mkdir(path: string): Promise<void> {
    await this.client.request(XsOp.MKDIR, joinStrings([path]), this.txId, path, this.wait);
  }
  async rm(path: string): Promise<void> {
    await this.client.request(XsOp.RM, joinStrings([path]), this.txId, path, this.wait);
  }
  async directory(path: string): Promise<string[]> {
    const reply = await this.client.request(XsOp.DIRECTORY, joinStrings([path]), this.txId, path, { ...this.wait, nullOnE2big: true });
    if (reply) return splitStrings(reply);
    return this.directoryParts(path);
  }
  /** DIRECTORY_PART rounds, restarted when the node's generation changes between them. */
  private async directoryParts(path: string): Promise<string[]> {
    for (let restart = 0; restart < 8; restart++) {
      let names: string[] = [];
      let offset = 0;
      let generation: string | undefined;
      for (;;) {
        const part = await this.client.request(XsOp.DIRECTORY_PART, joinStrings([path, String(offset)]), this.txId, path, this.wait);
        const strs = splitStrings(part);
        const gen = strs.shift() ?? '';
        if (generation !== undefined && gen !== generation) break;
        generation = gen;
        const done = strs.length > 0 && strs[strs.length - 1] === '';
        const got = done ? strs.slice(0, -1) : strs;
        names = names.concat(got);
        for (const n of got) offset += Buffer.byteLength(n) + 1;
        if (done) return names;
      }
    }
    throw new XsError('EAGAIN', 'DIRECTORY_PART', path, 'directory kept changing');
  }
  async getPerms(path: string): Promise<XsPerm[]> {
    const reply = await this.client.request(XsOp.GET_PERMS, joinStrings([path]), this.txId, path, this.wait);
    return splitStrings(reply).map(parsePerm);
  }
  async setPerms(path: string, perms: readonly XsPerm[]): Promise<void> {
    await this.client.request(XsOp.SET_PERMS, joinStrings([path, ...perms.map(formatPerm)]), this.txId, path, this.wait);
  }
}

/**
 * A xenstore client over any packet transport. Requests are pipelined: each gets a fresh req_id
 * and replies are matched by it, so callers may have many in flight. `await using` closes it.
 */
export class XsClient extends BoundOps implements Xenstore {
  readonly kind: string;
  private nextReqId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<string, WatchQueue>();
  private watchSeq = 0;
  private closedErr: XsError | undefined;
  private readonly timeoutMs: number;
  private readonly onCloseHook: (() => void | Promise<void>) | undefined;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly transport: XsTransport,
    opts: ClientOptions = {},
  ) {
    super(null, 0);
    this.kind = transport.kind;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.onCloseHook = opts.onClose;
    this.log = opts.logger ? scopedLogger(opts.logger, `xenstore ${transport.path ?? transport.kind}`) : silentLogger;
    transport.attach({ packet: (p) => this.onPacket(p), closed: (err) => this.onClosed(err) });
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with the reply payload; an ERROR reply rejects with XsError,
   * the bound with WaitTimeoutError, the caller's signal with AbortedError. With `nullOnE2big`,
   * an E2BIG reply resolves to null so directory() can fall back to DIRECTORY_PART.
   */
  request(op: number, payload: Buffer, txId: number, path?: string, opts?: RequestOptions & { nullOnE2big?: false }): Promise<Buffer>;
  request(op: number, payload: Buffer, txId: number, path: string | undefined, opts: RequestOptions & { nullOnE2big: true }): Promise<Buffer | null>;
  request(op: number, payload: Buffer, txId: number, path?: string, opts: RequestOptions = {}): Promise<Buffer | null> {
    if (this.closedErr) return Promise.reject(new XsError('ECONNRESET', opName(op), path, 'client closed'));
    // Like libxenstore: an oversized request never leaves (a daemon would drop the connection).
    if (payload.length > PAYLOAD_MAX) return Promise.reject(new XsError('E2BIG', opName(op), path, `payload of ${payload.length} bytes`));
    const what = `xenstore ${opName(op)}${path === undefined ? '' : ` ${path}`}`;
    if (opts.signal?.aborted) return Promise.reject(abortReason(what, opts.signal));
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xfffffff0 ? 1 : this.nextReqId + 1;
    return new Promise<Buffer | null>((resolve, reject) => {
      const own = opts.timeoutMs !== undefined || opts.signal !== undefined;
      const entry: Pending = {
        resolve,
        reject: (e) => {
          if (opts.nullOnE2big && isXsError(e, 'E2BIG')) resolve(null);
          else reject(e);
        },
        deadline: !own && this.timeoutMs > 0 ? Date.now() + this.timeoutMs : 0,
        op,
        path,
      };
      if (own) entry.release = this.bindWait(reqId, entry, what, opts);
      this.pending.set(reqId, entry);
      if (entry.deadline) this.armSweeper();
      this.transport.send({ type: op, reqId, txId, payload });
    });
  }

  /**
   * A request with bounds of its own: a timer and a signal listener of its own (few requests
   * have them, so the cost is theirs), undone when it settles. A late reply is then dropped.
   */
  private bindWait(reqId: number, entry: Pending, what: string, opts: WaitOptions): () => void {
    const expire = (err: Error): void => {
      if (this.pending.get(reqId) !== entry) return;
      this.pending.delete(reqId);
      entry.release?.();
      this.log.debug('request given up', { op: opName(entry.op), path: entry.path, reason: err.message });
      entry.reject(err);
    };
    const limit = opts.timeoutMs ?? (this.timeoutMs > 0 ? this.timeoutMs : undefined);
    const timer = limit === undefined ? undefined : setTimeout(() => expire(new WaitTimeoutError(what, limit)), limit);
    // A transaction's signal already carries the typed error of the whole wait: pass it on.
    const onAbort = (): void => expire(abortReason(what, opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    return () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
  }

  private sweeper: NodeJS.Timeout | undefined;

  /**
   * One coarse timer for all requests under the default bound instead of one each: a timer per
   * request costs more than the request itself on a fast daemon. Expiry is checked every quarter
   * of the timeout.
   */
  private armSweeper(): void {
    if (this.sweeper) return;
    const every = Math.max(5, Math.floor(this.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [id, e] of this.pending) {
        if (e.deadline && e.deadline <= now) {
          this.pending.delete(id);
          this.log.warn('request timed out', { op: opName(e.op), path: e.path, timeoutMs: this.timeoutMs });
          e.reject(new WaitTimeoutError(`xenstore ${opName(e.op)}${e.path === undefined ? '' : ` ${e.path}`}`, this.timeoutMs));
        }
      }
      if (![...this.pending.values()].some((e) => e.deadline)) this.disarmSweeper();
    }, every);
    this.sweeper.unref();
  }

  private disarmSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private onPacket(p: Packet): void {
    if (p.type === XsOp.WATCH_EVENT) {
      const [path, token] = splitStrings(p.payload);
      const q = token === undefined ? undefined : this.watches.get(token);
      if (path !== undefined && q) q.push({ path, token: token! });
      else this.log.debug('watch event for no watch of ours', { path, token });
      return;
    }
    const entry = this.pending.get(p.reqId);
    if (!entry) {
      // the reply to a request given up (timed out, aborted), or a daemon's mistake
      this.log.debug('reply to no pending request', { op: opName(p.type), reqId: p.reqId });
      return;
    }
    this.pending.delete(p.reqId);
    entry.release?.();
    if (p.type === XsOp.ERROR) {
      const name = splitStrings(p.payload)[0] ?? p.payload.toString();
      if (!isXsErrno(name)) this.log.warn('unknown error name in reply', { op: opName(entry.op), error: name });
      entry.reject(new XsError(isXsErrno(name) ? name : 'EINVAL', opName(entry.op), entry.path, isXsErrno(name) ? undefined : `unknown error ${name}`));
    } else {
      entry.resolve(p.payload);
    }
  }

  private onClosed(err?: Error): void {
    if (this.closedErr) return;
    if (err) this.log.warn('connection lost', { error: err.message, pending: this.pending.size });
    this.closedErr = new XsError('ECONNRESET', undefined, undefined, err ? err.message : 'connection closed');
    this.disarmSweeper();
    for (const [, e] of this.pending) {
      e.release?.();
      e.reject(new XsError('ECONNRESET', opName(e.op), e.path, err ? err.message : 'connection closed'));
    }
    this.pending.clear();
    for (const w of this.watches.values()) w.end();
    this.watches.clear();
  }

  /**
   * Runs `fn` in a transaction, again while the commit answers EAGAIN (up to `attempts`). With
   * `signal` or `timeoutMs`, every request of the transaction is bounded by them; a transaction
   * given up is ended with "F", never left to commit behind the caller's back.
   */
  async transaction<T>(fn: (tx: XsOps) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const attempts = opts.attempts ?? 16;
    const bound = boundSignal('xenstore transaction', opts);
    const wait: WaitOptions | undefined = bound && { signal: bound.signal };
    try {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const id = Number(splitStrings(await this.request(XsOp.TRANSACTION_START, joinStrings(['']), 0, undefined, wait))[0]);
        const tx = new BoundOps(this, id, wait);
        let result: T;
        try {
          result = await fn(tx);
          if (bound?.signal.aborted) throw bound.signal.reason;
        } catch (e) {
          await this.request(XsOp.TRANSACTION_END, joinStrings(['F']), id).catch(() => undefined);
          throw e;
        }
        try {
          await this.request(XsOp.TRANSACTION_END, joinStrings(['T']), id, undefined, wait);
          return result;
        } catch (e) {
          if (!isXsError(e, 'EAGAIN')) throw e;
        }
      }
      throw new XsTransactionConflict(attempts);
    } finally {
      bound?.done();
    }
  }

  async watch(path: string, token = `colo-xl-${++this.watchSeq}`): Promise<XsWatch> {
    if (this.watches.has(token)) throw new XsError('EEXIST', 'WATCH', path, `token ${token} already in use`);
    const q = new WatchQueue(path, token, () => this.unwatch(path, token));
    // Registered before the request leaves, so the initial fire cannot outrun it.
    this.watches.set(token, q);
    try {
      await this.request(XsOp.WATCH, joinStrings([path, token]), 0, path);
    } catch (e) {
      this.watches.delete(token);
      throw e;
    }
    return q;
  }

  async unwatch(path: string, token: string): Promise<void> {
    const q = this.watches.get(token);
    this.watches.delete(token);
    q?.end();
    await this.request(XsOp.UNWATCH, joinStrings([path, token]), 0, path);
  }

  private async ok(op: number, args: string[], path?: string): Promise<Buffer> {
    return this.request(op, joinStrings(args), 0, path);
  }

  async introduce(domid: number, mfn: number | bigint, eventChannel: number): Promise<void> {
    await this.ok(XsOp.INTRODUCE, [String(domid), String(mfn), String(eventChannel)]);
  }
  async release(domid: number): Promise<void> {
    await this.ok(XsOp.RELEASE, [String(domid)]);
  }
  async resume(domid: number): Promise<void> {
    await this.ok(XsOp.RESUME, [String(domid)]);
  }
  async getDomainPath(domid: number): Promise<string> {
    return splitStrings(await this.ok(XsOp.GET_DOMAIN_PATH, [String(domid)]))[0] ?? '';
  }
  async isDomainIntroduced(domid: number): Promise<boolean> {
    return splitStrings(await this.ok(XsOp.IS_DOMAIN_INTRODUCED, [String(domid)]))[0] === 'T';
  }
  async setTarget(domid: number, target: number): Promise<void> {
    await this.ok(XsOp.SET_TARGET, [String(domid), String(target)]);
  }
  async resetWatches(): Promise<void> {
    await this.ok(XsOp.RESET_WATCHES, ['']);
    for (const w of this.watches.values()) w.end();
    this.watches.clear();
  }
  async control(...args: string[]): Promise<string> {
    const reply = await this.ok(XsOp.CONTROL, args);
    return reply.toString('utf8').replace(/\0+$/, '');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.closedErr) this.onClosed();
      await this.transport.close();
      await this.onCloseHook?.();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
