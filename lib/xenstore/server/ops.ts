/**
 * The node operations of C xenstored (xenstored_core.c), on any TreeView, for one caller.
 * They throw XsError with the errno C xenstored answers and return the watch events to fire.
 */
import { XsError, canRead, canWrite, parentPath, type XsPerm } from '../messages.js';
import { TransactionView, baseName, childPath, type TreeView, type XsNode } from './tree.js';

/** Who is asking: the connection's domid, and the domain it may act for (SET_TARGET). */
export interface Caller {
  domid: number;
  privileged: boolean;
  target?: number;
}

/** A change watchers may hear about; `exact` limits it to watches on exactly that path. */
export interface ChangeEvent {
  path: string;
  exact: boolean;
  /** The node's permissions (undefined: the node is gone, for a committed transaction's event). */
  perms?: readonly XsPerm[];
  /** Its permissions before the change (SET_PERMS; a transaction's first sight of it). */
  oldPerms?: readonly XsPerm[];
  /** Its parent's: watch_permitted falls back on them when the node itself is not readable. */
  parentPerms?: readonly XsPerm[];
}

export const Perm = { READ: 1, WRITE: 2, OWNER: 4 } as const;

export interface Limits {
  /** -E: nodes an unprivileged domain may own. */
  nodesPerDomain: number;
  /** -S: bytes of one node's record. */
  nodeSize: number;
  /** -W: watches per unprivileged connection (C lets one more through: it checks with >). */
  watchesPerDomain: number;
  /** -t: open transactions per unprivileged connection (likewise one more). */
  transactionsPerDomain: number;
  /** -A */
  permsPerNode: number;
  /** -M */
  pathMax: number;
  /** -Q outstanding=: replies an unprivileged connection may leave unread before it is no longer read. */
  outstanding: number;
  /** -Q transaction-nodes=: nodes one unprivileged transaction may touch. */
  transactionNodes: number;
  /** -Q memory=: queued output of an unprivileged connection at which events drop and reading stops. */
  memory: number;
  /** -q memory=: the warning level (reported by `xenstore-control quota-soft`). */
  memorySoft: number;
  /** -w watch-event=: how long a watch event may wait for an unprivileged reader (ms; 0: for ever). */
  watchEventTimeoutMs: number;
  /**
   * colo-xl's own bound for privileged (socket) connections, which C xenstored leaves
   * unbounded: queued output at which their events drop and their requests wait (0: none).
   */
  backlog: number;
}

/** C xenstored 4.17 defaults (`xenstore-control quota` prints the same numbers). */
export const DEFAULT_LIMITS: Limits = {
  nodesPerDomain: 1000,
  nodeSize: 2048,
  watchesPerDomain: 128,
  transactionsPerDomain: 10,
  permsPerNode: 5,
  pathMax: 2048,
  outstanding: 20,
  transactionNodes: 1024,
  memory: 2 * 1024 * 1024 + 512 * 1024,
  memorySoft: 2 * 1024 * 1024,
  watchEventTimeoutMs: 20_000,
  backlog: 8 * 1024 * 1024,
};

// perm_for_conn
export function permForCaller(c: Caller, perms: readonly XsPerm[]): number {
  const all = Perm.READ | Perm.WRITE | Perm.OWNER;
  const owner = perms[0];
  if (!owner) return 0;
  if (c.privileged || owner.domid === c.domid || (c.target !== undefined && owner.domid === c.target)) return all;
  const bits = (a: XsPerm['access']): number => (canRead(a) ? Perm.READ : 0) | (canWrite(a) ? Perm.WRITE : 0);
  for (const p of perms.slice(1)) {
    if (p.domid === c.domid || (c.target !== undefined && p.domid === c.target)) return bits(p.access);
  }
  return bits(owner.access);
}

/** Nearest existing ancestor's verdict decides between ENOENT and EACCES (errno_from_parents). */
function errnoFromParents(view: TreeView, c: Caller, path: string, want: number): 'ENOENT' | 'EACCES' {
  let p = path;
  while (p !== '/') {
    p = parentPath(p);
    const n = view.get(p);
    if (n) return (permForCaller(c, n.perms) & want) !== 0 ? 'ENOENT' : 'EACCES';
  }
  return 'EACCES';
}

// get_node
export function getNode(view: TreeView, c: Caller, path: string, want: number, op: string): XsNode {
  const n = view.get(path);
  if (n) {
    if ((permForCaller(c, n.perms) & want) === want) return n;
    // C asks the parents even here (the answer stays EACCES): in a transaction that reads them,
    // so they count for its conflicts and its node quota, whose ENOSPC wins.
    errnoFromParents(view, c, path, want);
    throw new XsError('EACCES', op, path);
  }
  throw new XsError(errnoFromParents(view, c, path, want), op, path);
}

export function entrySize(n: Omit<XsNode, 'generation'>): number {
  // xs_tdb_record_hdr (24 bytes) + 8 per permission + data + NUL-terminated child names
  let size = 24 + 8 * n.perms.length + n.value.length;
  for (const ch of n.children) size += Buffer.byteLength(ch) + 1;
  return size;
}

/** write_node_raw's size check; inside a transaction a refused write fails it (write_node). */
function checkSize(view: TreeView, c: Caller, limits: Limits, path: string, n: Omit<XsNode, 'generation'>, op: string): void {
  if (c.privileged || entrySize(n) < limits.nodeSize) return;
  if (view instanceof TransactionView) view.failed = true;
  throw new XsError('ENOSPC', op, path, 'node too big');
}

function store(view: TreeView, c: Caller, limits: Limits, path: string, n: Omit<XsNode, 'generation'>, op: string): void {
  checkSize(view, c, limits, path, n, op);
  view.put(path, n);
}

/**
 * create_node's quota check: outside a transaction every new node counts at once; inside one
 * domain_entry counts only committed nodes, and the transaction's own are checked at commit.
 */
function quotaRefuses(view: TreeView, c: Caller, limits: Limits, creating: number): boolean {
  if (c.privileged) return false;
  if (view instanceof TransactionView) {
    view.nodeCreated = true;
    return view.committedOwnedBy(c.domid) >= limits.nodesPerDomain;
  }
  return view.ownedBy(c.domid) + creating > limits.nodesPerDomain;
}

// construct_node + create_node: missing ancestors are created too, inheriting perms downward
function createNode(view: TreeView, c: Caller, limits: Limits, path: string, value: Buffer, op: string): XsNode {
  const missing: string[] = [];
  let p = path;
  let parent: XsNode | undefined;
  for (;;) {
    missing.unshift(p);
    p = parentPath(p);
    parent = view.get(p);
    if (parent) break;
  }
  if (quotaRefuses(view, c, limits, missing.length)) throw new XsError('ENOSPC', op, path, 'node quota exceeded');
  let perms: readonly XsPerm[] = parent.perms;
  // Unprivileged domains own what they create.
  if (!c.privileged && perms[0]) perms = [{ domid: c.domid, access: perms[0].access }, ...perms.slice(1)];
  // Every node is built and size-checked before any is stored: a refused creation leaves no
  // half-made branch behind (C xenstored destroys what it had created).
  const updatedParent = { ...parent, children: [...parent.children, baseName(missing[0]!)] };
  const fresh = missing.map((here, i) => ({
    here,
    node: { value: i === missing.length - 1 ? value : Buffer.alloc(0), perms, children: i + 1 < missing.length ? [baseName(missing[i + 1]!)] : [] },
  }));
  for (const n of [updatedParent, ...fresh.map((f) => f.node)]) checkSize(view, c, limits, path, n, op);
  view.put(p, updatedParent);
  for (const f of fresh) view.put(f.here, f.node);
  const created = view.get(path);
  return created!;
}

export function opRead(view: TreeView, c: Caller, path: string): Buffer {
  return getNode(view, c, path, Perm.READ, 'READ').value;
}

export function opDirectory(view: TreeView, c: Caller, path: string, op = 'DIRECTORY'): XsNode {
  return getNode(view, c, path, Perm.READ, op);
}

export function opGetPerms(view: TreeView, c: Caller, path: string): readonly XsPerm[] {
  return getNode(view, c, path, Perm.READ, 'GET_PERMS').perms;
}

export function opWrite(view: TreeView, c: Caller, limits: Limits, path: string, value: Buffer): ChangeEvent[] {
  const existing = view.get(path);
  if (existing) {
    const n = getNode(view, c, path, Perm.WRITE, 'WRITE');
    store(view, c, limits, path, { ...n, value }, 'WRITE');
    return [{ path, exact: false, perms: n.perms }];
  }
  const parentErr = errnoFromParents(view, c, path, Perm.WRITE);
  if (parentErr !== 'ENOENT') throw new XsError(parentErr, 'WRITE', path);
  const n = createNode(view, c, limits, path, value, 'WRITE');
  return [{ path, exact: false, perms: n.perms }];
}

export function opMkdir(view: TreeView, c: Caller, limits: Limits, path: string): ChangeEvent[] {
  if (view.get(path)) {
    getNode(view, c, path, Perm.WRITE, 'MKDIR');
    return [];
  }
  const parentErr = errnoFromParents(view, c, path, Perm.WRITE);
  if (parentErr !== 'ENOENT') throw new XsError(parentErr, 'MKDIR', path);
  const n = createNode(view, c, limits, path, Buffer.alloc(0), 'MKDIR');
  return [{ path, exact: false, perms: n.perms }];
}

// do_rm + _rm + delete_node + delete_child. Children go first, depth first, each unlinked from
// its in-memory parent as it goes; descendants fire exact watches, the named node fires for
// every watch at or above it. Inside a transaction a node may come from the transaction and its
// parent from the store, so C xenstored's failure modes show through: a missing parent is
// EINVAL, a listed child that is not there or a parent not listing the node EIO; whatever
// was deleted before the failure stays deleted.
export function opRm(view: TreeView, c: Caller, path: string, events: ChangeEvent[]): void {
  if (!view.get(path)) {
    const parentErr = errnoFromParents(view, c, path, Perm.WRITE);
    if (parentErr === 'EACCES') throw new XsError('EACCES', 'RM', path);
    if (view.get(parentPath(path))) return;
    throw new XsError('ENOENT', 'RM', path);
  }
  const node = getNode(view, c, path, Perm.WRITE, 'RM');
  if (path === '/') throw new XsError('EINVAL', 'RM', path);
  const pp = parentPath(path);
  const parent = view.get(pp);
  if (!parent) throw new XsError('EINVAL', 'RM', path);
  type Mutable = { value: Buffer; perms: readonly XsPerm[]; children: string[] };
  const copy = (n: XsNode): Mutable => ({ value: n.value, perms: n.perms, children: [...n.children] });
  const deleteNode = (parentAt: string, parentNode: Mutable, at: string, n: Mutable, exact: boolean): void => {
    while (n.children.length) {
      const cp = childPath(at, n.children[0]!);
      // walk_node_tree: a child that cannot be read, for whatever reason (a transaction's node
      // quota too), stops the walk as corruption: EIO
      let child: XsNode | undefined;
      try {
        child = view.get(cp);
      } catch (e) {
        if (!(e instanceof XsError)) throw e;
        throw new XsError('EIO', 'RM', path, `reading ${cp}: ${e.code}`);
      }
      if (!child) throw new XsError('EIO', 'RM', path, `child ${cp} vanished`);
      deleteNode(at, n, cp, copy(child), true);
    }
    events.push({ path: at, exact, perms: n.perms, parentPerms: parentNode.perms });
    view.delete(at);
    const i = parentNode.children.indexOf(baseName(at));
    if (i < 0) throw new XsError('EIO', 'RM', path, `${parentAt} does not list ${at}`);
    parentNode.children.splice(i, 1);
    view.put(parentAt, { ...parentNode, children: [...parentNode.children] });
  };
  deleteNode(pp, copy(parent), path, copy(node), false);
}

export function opSetPerms(view: TreeView, c: Caller, limits: Limits, path: string, perms: XsPerm[]): ChangeEvent[] {
  if (!c.privileged && perms.length > limits.permsPerNode) throw new XsError('ENOSPC', 'SET_PERMS', path, 'too many permissions');
  const n = getNode(view, c, path, Perm.WRITE | Perm.OWNER, 'SET_PERMS');
  // Unprivileged domains may not give nodes away.
  if (!c.privileged && perms[0]!.domid !== n.perms[0]!.domid) throw new XsError('EPERM', 'SET_PERMS', path);
  if (!c.privileged && perms[0]!.domid !== n.perms[0]!.domid && view.ownedBy(perms[0]!.domid) >= limits.nodesPerDomain) {
    throw new XsError('ENOSPC', 'SET_PERMS', path);
  }
  // do_set_perms moves the node's count from its old owner to the new one, whatever follows
  if (view instanceof TransactionView) view.touchEntries(n.perms[0]!.domid, perms[0]!.domid);
  store(view, c, limits, path, { ...n, perms }, 'SET_PERMS');
  return [{ path, exact: false, perms, oldPerms: n.perms }];
}
