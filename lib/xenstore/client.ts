import type { TransactionOptions, Xenstore, XsOps, XsWatch } from './api.js';
import {
  PAYLOAD_MAX,
  XsError,
  XsOp,
  XsTransactionConflict,
  formatPerm,
  isXsErrno,
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
  /** Per-request timeout in milliseconds (default 30 s); 0 disables it. */
  timeoutMs?: number;
  /** Runs once the client has closed (openXenstore uses it to let go of the embedded store). */
  onClose?: () => void | Promise<void>;
}

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
  /** When the request expires (ms since epoch), or 0 for never. */
  deadline: number;
  op: number;
  path: string | undefined;
}

/** Ops bound to one transaction id (0 = none). */
class BoundOps implements XsOps {
  constructor(
    private readonly owner: XsClient | null,
    readonly txId: number,
  ) {}

  protected get client(): XsClient {
    return this.owner ?? (this as unknown as XsClient);
  }

  async readBuffer(path: string): Promise<Buffer> {
    return this.client.request(XsOp.READ, joinStrings([path]), this.txId, path);
  }
  async read(path: string): Promise<string> {
    return (await this.readBuffer(path)).toString('utf8');
  }
  async tryRead(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async exists(path: string): Promise<boolean> {
    try {
      await this.readBuffer(path);
      return true;
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') return false;
      throw e;
    }
  }
  async write(path: string, value: string | Buffer): Promise<void> {
    const payload = Buffer.concat([Buffer.from(`${path}\0`), typeof value === 'string' ? Buffer.from(value) : value]);
    await this.client.request(XsOp.WRITE, payload, this.txId, path);
  }
  async mkdir(path: string): Promise<void> {
    await this.client.request(XsOp.MKDIR, joinStrings([path]), this.txId, path);
  }
  async rm(path: string): Promise<void> {
    await this.client.request(XsOp.RM, joinStrings([path]), this.txId, path);
  }
  async directory(path: string): Promise<string[]> {
    const reply = await this.client.request(XsOp.DIRECTORY, joinStrings([path]), this.txId, path, true);
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
        const part = await this.client.request(XsOp.DIRECTORY_PART, joinStrings([path, String(offset)]), this.txId, path);
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
    const reply = await this.client.request(XsOp.GET_PERMS, joinStrings([path]), this.txId, path);
    return splitStrings(reply).map(parsePerm);
  }
  async setPerms(path: string, perms: readonly XsPerm[]): Promise<void> {
    await this.client.request(XsOp.SET_PERMS, joinStrings([path, ...perms.map(formatPerm)]), this.txId, path);
  }
}

/**
 * A xenstore client over any packet transport. Requests are pipelined: each gets a fresh req_id
 * and replies are matched by it, so callers may have many in flight.
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
  private closing: Promise<void> | undefined;

  constructor(
    private readonly transport: XsTransport,
    opts: ClientOptions = {},
  ) {
    super(null, 0);
    this.kind = transport.kind;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.onCloseHook = opts.onClose;
    transport.attach({ packet: (p) => this.onPacket(p), closed: (err) => this.onClosed(err) });
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with the reply payload. With `nullOnE2big`, an E2BIG reply
   * resolves to null so directory() can fall back to DIRECTORY_PART.
   */
  request(op: number, payload: Buffer, txId: number, path?: string): Promise<Buffer>;
  request(op: number, payload: Buffer, txId: number, path: string | undefined, nullOnE2big: true): Promise<Buffer | null>;
  request(op: number, payload: Buffer, txId: number, path?: string, nullOnE2big = false): Promise<Buffer | null> {
    if (this.closedErr) return Promise.reject(new XsError('ECONNRESET', opName(op), path, 'client closed'));
    // Like libxenstore: an oversized request never leaves (a daemon would drop the connection).
    if (payload.length > PAYLOAD_MAX) return Promise.reject(new XsError('E2BIG', opName(op), path, `payload of ${payload.length} bytes`));
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xfffffff0 ? 1 : this.nextReqId + 1;
    return new Promise<Buffer | null>((resolve, reject) => {
      const entry: Pending = {
        resolve,
        reject: (e) => {
          if (nullOnE2big && e instanceof XsError && e.code === 'E2BIG') resolve(null);
          else reject(e);
        },
        deadline: this.timeoutMs > 0 ? Date.now() + this.timeoutMs : 0,
        op,
        path,
      };
      this.pending.set(reqId, entry);
      if (entry.deadline) this.armSweeper();
      this.transport.send({ type: op, reqId, txId, payload });
    });
  }

  private sweeper: NodeJS.Timeout | undefined;

  /**
   * One coarse timer for all requests instead of one each: a timer per request costs more than
   * the request itself on a fast daemon. Expiry is checked every quarter of the timeout.
   */
  private armSweeper(): void {
    if (this.sweeper) return;
    const every = Math.max(5, Math.floor(this.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [id, e] of this.pending) {
        if (e.deadline && e.deadline <= now) {
          this.pending.delete(id);
          e.reject(new XsError('ETIMEDOUT', opName(e.op), e.path, `no reply within ${this.timeoutMs} ms`));
        }
      }
      if (this.pending.size === 0) this.disarmSweeper();
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
      if (path !== undefined && token !== undefined) this.watches.get(token)?.push({ path, token });
      return;
    }
    const entry = this.pending.get(p.reqId);
    if (!entry) return;
    this.pending.delete(p.reqId);
    if (p.type === XsOp.ERROR) {
      const name = splitStrings(p.payload)[0] ?? p.payload.toString();
      entry.reject(new XsError(isXsErrno(name) ? name : 'EINVAL', opName(entry.op), entry.path, isXsErrno(name) ? undefined : `unknown error ${name}`));
    } else {
      entry.resolve(p.payload);
    }
  }

  private onClosed(err?: Error): void {
    if (this.closedErr) return;
    this.closedErr = new XsError('ECONNRESET', undefined, undefined, err ? err.message : 'connection closed');
    this.disarmSweeper();
    for (const [, e] of this.pending) {
      e.reject(new XsError('ECONNRESET', opName(e.op), e.path, err ? err.message : 'connection closed'));
    }
    this.pending.clear();
    for (const w of this.watches.values()) w.end();
    this.watches.clear();
  }

  async transaction<T>(fn: (tx: XsOps) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const attempts = opts.attempts ?? 16;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const id = Number(splitStrings(await this.request(XsOp.TRANSACTION_START, joinStrings(['']), 0))[0]);
      const tx = new BoundOps(this, id);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await this.request(XsOp.TRANSACTION_END, joinStrings(['F']), id).catch(() => undefined);
        throw e;
      }
      try {
        await this.request(XsOp.TRANSACTION_END, joinStrings(['T']), id);
        return result;
      } catch (e) {
        if (!(e instanceof XsError && e.code === 'EAGAIN')) throw e;
      }
    }
    throw new XsTransactionConflict(attempts);
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
}
