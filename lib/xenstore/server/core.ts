/**
 * The embedded xenstored: request dispatch with C xenstored 4.17's semantics
 * (process_message and the do_* handlers of xenstored_core.c, xenstored_domain.c,
 * xenstored_transaction.c, xenstored_watch.c).
 */
import {
  INTRODUCE_DOMAIN,
  PAYLOAD_MAX,
  RELEASE_DOMAIN,
  XsError,
  XsOp,
  canonicalPath,
  domainPath,
  formatPerm,
  isValidPath,
  joinStrings,
  parentPath,
  parsePerm,
  splitStrings,
  type Packet,
  type XsPerm,
} from '../messages.js';
import { ServerConnection, type PacketSink } from './connection.js';
import { controlCommand } from './control.js';
import { DomainTable } from './domains.js';
import { atoi } from '../../util/cstr.js';
import { oneArg, splitBinary } from './args.js';
import { checkCommit } from './commit.js';
import { commitEvents, fireSpecialWatch, fireWatches, sendWatchEvent } from './watches.js';
import {
  DEFAULT_LIMITS,
  Perm,
  opDirectory,
  opGetPerms,
  opMkdir,
  opRead,
  opRm,
  opSetPerms,
  opWrite,
  permForCaller,
  type ChangeEvent,
  type Limits,
} from './ops.js';
import { NodeStore, RecordingView, TransactionView, type TreeView, type XsNode } from './tree.js';

/** One committed change of one node: how it was and how it is (null: absent). */
export type NodeChange = readonly [path: string, before: XsNode | null, after: XsNode | null];

/** Receives every committed change before the client hears "OK" (durability hook). */
export interface Journal {
  commit(changes: readonly NodeChange[]): void;
}

const OK = joinStrings(['OK']);
/** wire_funcs[] entries with a handler; anything else (WATCH_EVENT, ERROR, 20, >22) is ENOSYS. */
const HANDLED_OPS = new Set<number>(
  Object.values(XsOp).filter((t) => t !== XsOp.WATCH_EVENT && t !== XsOp.ERROR),
);

/**
 * The path argument of READ, DIRECTORY and GET_PERMS. C passes onearg's NULL on to the lookup,
 * which fails with ENOENT, so a payload that is not exactly one string answers ENOENT there.
 */
function lookupArg(p: Packet, op: string): string {
  try {
    return oneArg(p, op);
  } catch {
    throw new XsError('ENOENT', op);
  }
}
/** wire_funcs[] entries flagged XS_FLAG_PRIV: dom0 (or the privileged domain) only. */
const PRIVILEGED_OPS = new Set<number>([XsOp.CONTROL, XsOp.INTRODUCE, XsOp.RELEASE, XsOp.IS_DOMAIN_INTRODUCED, XsOp.RESUME, XsOp.SET_TARGET]);

export interface CoreOptions {
  limits?: Partial<Limits>;
  journal?: Journal;
  store?: NodeStore;
}

export class XenstoreCore {
  readonly store: NodeStore;
  readonly limits: Limits;
  readonly domains = new DomainTable();
  journal: Journal | undefined;
  private readonly connections = new Set<ServerConnection>();
  private readonly specialPerms = new Map<string, XsPerm[]>([
    [INTRODUCE_DOMAIN, [{ domid: 0, access: 'none' }]],
    [RELEASE_DOMAIN, [{ domid: 0, access: 'none' }]],
  ]);

  constructor(opts: CoreOptions = {}) {
    this.store = opts.store ?? new NodeStore();
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.journal = opts.journal;
  }

  connect(sink: PacketSink, domid = 0): ServerConnection {
    const c = new ServerConnection(sink, domid, this.limits);
    this.connections.add(c);
    return c;
  }

  disconnect(c: ServerConnection): void {
    c.closed = true;
    c.watches.length = 0;
    c.transactions.clear();
    c.out.clear();
    this.connections.delete(c);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** What `xenstore-control quota <domid>` reports (domain_get_quota); undefined if unknown. */
  domainUsage(domid: number): { domid: number; nodes: number; watches: number; transactions: number; outstanding: number; memory: number } | undefined {
    if (!this.domains.isIntroduced(domid)) return undefined;
    const u = { domid, nodes: this.store.ownedBy(domid), watches: 0, transactions: 0, outstanding: 0, memory: 0 };
    for (const c of this.connections) {
      if (c.domid !== domid) continue;
      u.watches += c.watches.length;
      u.transactions += c.transactions.size;
      u.outstanding += c.out.replies;
      u.memory += c.out.bytes;
    }
    return u;
  }

  /**
   * Handles one request; the reply (and any watch events) are queued on the connections. A
   * transport reads the next request only while `c.mayRead` says so (the quotas).
   */
  handle(c: ServerConnection, p: Packet): void {
    if (c.closed) return;
    let reply: Buffer;
    const after: Array<() => void> = [];
    try {
      reply = this.dispatch(c, p, after);
    } catch (e) {
      if (!(e instanceof XsError) || e.errnoName === 'ECONNRESET') throw e;
      c.reply({ type: XsOp.ERROR, reqId: p.reqId, txId: p.txId, payload: joinStrings([e.errnoName]) });
      return;
    }
    if (reply.length > PAYLOAD_MAX) {
      c.reply({ type: XsOp.ERROR, reqId: p.reqId, txId: p.txId, payload: joinStrings(['E2BIG']) });
      return;
    }
    c.reply({ type: p.type, reqId: p.reqId, txId: p.txId, payload: reply });
    for (const f of after) f();
  }

  private path(c: ServerConnection, given: string, op: string, allowSpecial = false): string {
    const path = canonicalPath(given, c.domid);
    if (!isValidPath(path, allowSpecial, this.limits.pathMax)) throw new XsError('EINVAL', op, given);
    return path;
  }

  private caller(c: ServerConnection): { domid: number; privileged: boolean; target?: number } {
    return { domid: c.domid, privileged: c.privileged, target: c.target };
  }

  /**
   * Runs a modifying op on the store or on the request's transaction. An op that fails half
   * way (RM meeting a vanished child) keeps what it already did, as in C xenstored, so the
   * changes made so far are journalled and announced even then.
   */
  private modify(c: ServerConnection, txId: number, f: (v: TreeView, events: ChangeEvent[]) => void): Buffer {
    const events: ChangeEvent[] = [];
    if (txId !== 0) {
      const tx = this.transaction(c, txId);
      try {
        f(tx.view, events);
      } finally {
        tx.events.push(...events);
      }
      return OK;
    }
    const rec = new RecordingView(this.store);
    try {
      f(rec, events);
    } finally {
      this.journalCommit(rec.touched);
      // watch_permitted reads the parent of a node it may not read; RM's events carry theirs.
      for (const e of events) if (!e.parentPerms) e.parentPerms = this.store.get(parentPath(e.path))?.perms;
      // C xenstored queues the watch events before the reply.
      fireWatches(this.connections, events);
    }
    return OK;
  }

  /** `before` maps each changed path to its node before the change; the store has the after. */
  private journalCommit(before: ReadonlyMap<string, XsNode | undefined>): void {
    if (!this.journal) return;
    const changes: NodeChange[] = [];
    for (const [path, old] of before) changes.push([path, old ?? null, this.store.get(path) ?? null]);
    if (changes.length) this.journal.commit(changes);
  }

  private transaction(c: ServerConnection, txId: number): { view: TransactionView; events: ChangeEvent[] } {
    const tx = c.transactions.get(txId);
    if (!tx) throw new XsError('ENOENT', 'TRANSACTION', undefined, `no transaction ${txId}`);
    return tx;
  }

  private view(c: ServerConnection, txId: number): TreeView {
    return txId === 0 ? this.store : this.transaction(c, txId).view;
  }

  private dispatch(c: ServerConnection, p: Packet, after: Array<() => void>): Buffer {
    // process_message: an op without a handler is ENOSYS before its tx_id is looked at.
    if (!HANDLED_OPS.has(p.type)) throw new XsError('ENOSYS');
    if (PRIVILEGED_OPS.has(p.type) && !c.privileged) throw new XsError('EACCES');
    // Ops that ignore tx_id (XS_FLAG_NOTID); for the others an unknown id is ENOENT up front.
    const txId = p.type === XsOp.WATCH || p.type === XsOp.UNWATCH ? 0 : p.txId;
    if (txId !== 0) this.transaction(c, txId);
    const who = this.caller(c);
    switch (p.type) {
      case XsOp.READ:
        return opRead(this.view(c, txId), who, this.path(c, lookupArg(p, 'READ'), 'READ'));
      case XsOp.DIRECTORY: {
        const n = opDirectory(this.view(c, txId), who, this.path(c, lookupArg(p, 'DIRECTORY'), 'DIRECTORY'));
        return joinStrings(n.children);
      }
      case XsOp.DIRECTORY_PART:
        return this.directoryPart(c, p, txId);
      case XsOp.GET_PERMS:
        return joinStrings(opGetPerms(this.view(c, txId), who, this.path(c, lookupArg(p, 'GET_PERMS'), 'GET_PERMS')).map(formatPerm));
      case XsOp.WRITE: {
        const nul = p.payload.indexOf(0);
        if (nul < 0) throw new XsError('EINVAL', 'WRITE');
        const path = this.path(c, p.payload.toString('utf8', 0, nul), 'WRITE');
        const value = Buffer.from(p.payload.subarray(nul + 1));
        return this.modify(c, txId, (v, ev) => ev.push(...opWrite(v, who, this.limits, path, value)));
      }
      case XsOp.MKDIR: {
        const path = this.path(c, oneArg(p, 'MKDIR'), 'MKDIR');
        return this.modify(c, txId, (v, ev) => ev.push(...opMkdir(v, who, this.limits, path)));
      }
      case XsOp.RM: {
        const path = this.path(c, oneArg(p, 'RM'), 'RM');
        return this.modify(c, txId, (v, ev) => opRm(v, who, path, ev));
      }
      case XsOp.SET_PERMS:
        return this.setPerms(c, p, txId);
      case XsOp.WATCH:
        return this.watch(c, p, after);
      case XsOp.UNWATCH: {
        const args = splitBinary(p.payload);
        if (args.length !== 2) throw new XsError('EINVAL', 'UNWATCH');
        const path = canonicalPath(args[0]!, c.domid);
        const i = c.watches.findIndex((w) => w.path === path && w.token === args[1]);
        if (i < 0) throw new XsError('ENOENT', 'UNWATCH', args[0]);
        c.watches.splice(i, 1);
        return OK;
      }
      case XsOp.TRANSACTION_START: {
        if (p.txId !== 0) throw new XsError('EBUSY', 'TRANSACTION_START');
        // do_transaction_start compares with >, so one more than the quota is allowed.
        if (!c.privileged && c.transactions.size > this.limits.transactionsPerDomain) throw new XsError('ENOSPC', 'TRANSACTION_START');
        let id = c.nextTxId;
        while (id === 0 || c.transactions.has(id)) id = (id + 1) >>> 0;
        c.nextTxId = (id + 1) >>> 0;
        const maxNodes = c.privileged ? 0 : this.limits.transactionNodes;
        c.transactions.set(id, { view: new TransactionView(this.store, maxNodes), events: [] });
        return joinStrings([String(id)]);
      }
      case XsOp.TRANSACTION_END:
        return this.transactionEnd(c, p);
      case XsOp.GET_DOMAIN_PATH:
        return joinStrings([domainPath(atoi(oneArg(p, 'GET_DOMAIN_PATH')) >>> 0)]);
      case XsOp.IS_DOMAIN_INTRODUCED:
        return joinStrings([this.domains.isIntroduced(atoi(oneArg(p, 'IS_DOMAIN_INTRODUCED'))) ? 'T' : 'F']);
      case XsOp.INTRODUCE: {
        const args = splitStrings(p.payload);
        if (args.length < 3) throw new XsError('EINVAL', 'INTRODUCE');
        const [domid, mfn, port] = [atoi(args[0]!), args[1]!, atoi(args[2]!)];
        if (port <= 0 || domid < 0) throw new XsError('EINVAL', 'INTRODUCE');
        if (this.domains.introduce(domid, mfn, port)) fireSpecialWatch(this.connections, INTRODUCE_DOMAIN, this.specialPerms.get(INTRODUCE_DOMAIN)!);
        return OK;
      }
      case XsOp.RELEASE: {
        const domid = atoi(oneArg(p, 'RELEASE'));
        if (domid === 0) throw new XsError('EINVAL', 'RELEASE');
        if (!this.domains.release(domid)) throw new XsError('ENOENT', 'RELEASE');
        for (const conn of this.connections) if (conn.domid === domid) this.disconnectGuest(conn);
        after.push(() => fireSpecialWatch(this.connections, RELEASE_DOMAIN, this.specialPerms.get(RELEASE_DOMAIN)!));
        return OK;
      }
      case XsOp.RESUME: {
        // onearg_domain: domid 0 (atoi of junk, or of a number that wraps to 0) is EINVAL
        const domid = atoi(oneArg(p, 'RESUME'));
        if (domid === 0) throw new XsError('EINVAL', 'RESUME');
        if (!this.domains.isIntroduced(domid)) throw new XsError('ENOENT', 'RESUME');
        return OK;
      }
      case XsOp.SET_TARGET: {
        const args = splitStrings(p.payload);
        if (args.length < 2) throw new XsError('EINVAL', 'SET_TARGET');
        const [domid, target] = [atoi(args[0]!), atoi(args[1]!)];
        if (!this.domains.isIntroduced(domid) || !this.domains.isIntroduced(target)) throw new XsError('ENOENT', 'SET_TARGET');
        this.domains.setTarget(domid, target);
        for (const conn of this.connections) if (conn.domid === domid) conn.target = target;
        return OK;
      }
      case XsOp.RESET_WATCHES:
        c.watches.length = 0;
        c.transactions.clear();
        return OK;
      case XsOp.CONTROL:
        return controlCommand(this, splitStrings(p.payload));
      default:
        throw new XsError('ENOSYS');
    }
  }

  private disconnectGuest(conn: ServerConnection): void {
    conn.sink.abort('domain released');
    this.disconnect(conn);
  }

  // send_directory_part: "<generation>\0" then whole child names from byte `offset` on, with an
  // extra empty string once the list is complete
  private directoryPart(c: ServerConnection, p: Packet, txId: number): Buffer {
    const args = splitStrings(p.payload);
    if (args.length !== 2) throw new XsError('EINVAL', 'DIRECTORY_PART');
    const path = this.path(c, args[0]!, 'DIRECTORY_PART');
    const n = opDirectory(this.view(c, txId), this.caller(c), path, 'DIRECTORY_PART');
    const gen = Buffer.from(`${n.generation}\0`);
    const all = joinStrings(n.children);
    const off = atoi(args[1]!);
    if (off < 0) throw new XsError('EINVAL', 'DIRECTORY_PART');
    if (off >= all.length) return Buffer.concat([gen, Buffer.from([0])]);
    let end = off;
    for (;;) {
      const nul = all.indexOf(0, end);
      const next = (nul < 0 ? all.length - 1 : nul) + 1;
      const last = next >= all.length;
      if (gen.length + (next - off) + (last ? 1 : 0) > PAYLOAD_MAX) break;
      end = next;
      if (last) return Buffer.concat([gen, all.subarray(off, end), Buffer.from([0])]);
    }
    if (end === off) throw new XsError('E2BIG', 'DIRECTORY_PART', path);
    return Buffer.concat([gen, all.subarray(off, end)]);
  }

  private setPerms(c: ServerConnection, p: Packet, txId: number): Buffer {
    const args = splitStrings(p.payload);
    if (args.length < 2) throw new XsError('EINVAL', 'SET_PERMS');
    if (!c.privileged && args.length - 1 > this.limits.permsPerNode) throw new XsError('ENOSPC', 'SET_PERMS');
    const perms = args.slice(1).map(parsePerm);
    const given = args[0]!;
    if (given.startsWith('@')) {
      const cur = this.specialPerms.get(given);
      if (!cur) throw new XsError('EINVAL', 'SET_PERMS', given);
      if ((permForCaller(this.caller(c), cur) & (Perm.WRITE | Perm.OWNER)) !== (Perm.WRITE | Perm.OWNER)) {
        throw new XsError('EACCES', 'SET_PERMS', given);
      }
      this.specialPerms.set(given, perms);
      return OK;
    }
    const path = this.path(c, given, 'SET_PERMS');
    return this.modify(c, txId, (v, ev) => ev.push(...opSetPerms(v, this.caller(c), this.limits, path, perms)));
  }

  private watch(c: ServerConnection, p: Packet, after: Array<() => void>): Buffer {
    const args = splitBinary(p.payload);
    if (args.length !== 2) throw new XsError('EINVAL', 'WATCH');
    const [given, token] = [args[0]!, args[1]!];
    const path = this.path(c, given, 'WATCH', true);
    if (c.watches.some((w) => w.path === path && w.token === token)) throw new XsError('EEXIST', 'WATCH', given);
    // do_watch compares with >, so one more than the quota is allowed.
    if (!c.privileged && c.watches.length > this.limits.watchesPerDomain) throw new XsError('E2BIG', 'WATCH', given);
    const w = { path, given, token };
    c.watches.push(w);
    // The initial fire, sent right after the reply.
    after.push(() => sendWatchEvent(c, w.given, token));
    return OK;
  }

  private transactionEnd(c: ServerConnection, p: Packet): Buffer {
    const arg = oneArg(p, 'TRANSACTION_END');
    if (arg !== 'T' && arg !== 'F') throw new XsError('EINVAL', 'TRANSACTION_END');
    const tx = this.transaction(c, p.txId);
    c.transactions.delete(p.txId);
    if (arg === 'F') return OK;
    checkCommit(tx.view, this.store, this.limits, c.privileged);
    const before = new Map<string, XsNode | undefined>();
    if (this.journal) for (const path of tx.view.changes.keys()) before.set(path, this.store.get(path));
    tx.view.apply();
    this.journalCommit(before);
    fireWatches(this.connections, commitEvents(tx.view, this.store, tx.events));
    return OK;
  }
}
