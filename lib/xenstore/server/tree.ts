import { XsError, type XsPerm } from '../messages.js';

/** One node. Treated as immutable once stored: every change stores a fresh object. */
export interface XsNode {
  readonly value: Buffer;
  /** perms[0] names the owner and what everybody else may do; the rest are per-domain ACL. */
  readonly perms: readonly XsPerm[];
  /** Child names in creation order (xenstored appends new children at the end). */
  readonly children: readonly string[];
  /** Bumped on every change of value, perms or child list; transactions compare it. */
  readonly generation: number;
}

/** "Nothing ever existed here", for transaction conflict bookkeeping. */
export const NO_NODE = -1;

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** What the operations need from a tree: the committed store and a transaction both offer it. */
export interface TreeView {
  get(path: string): XsNode | undefined;
  /** Stores `node` (its generation is assigned here). */
  put(path: string, node: Omit<XsNode, 'generation'>): void;
  delete(path: string): void;
  /** Nodes owned by `domid` as seen by this view (for the per-domain node quota). */
  ownedBy(domid: number): number;
}

/** The committed tree: a flat map from absolute path to node. */
export class NodeStore implements TreeView {
  readonly nodes: Map<string, XsNode>;
  private readonly owned = new Map<number, number>();
  generation = 0;

  /** Without `adopted`: C xenstored's initial tree. */
  constructor(adopted?: Map<string, XsNode>) {
    this.nodes = adopted ?? new Map<string, XsNode>();
    if (adopted) return;
    const root: XsPerm[] = [{ domid: 0, access: 'none' }];
    // C xenstored's initial layout: / with /tool/xenstored below it, all n0.
    this.put('/', { value: Buffer.alloc(0), perms: root, children: ['tool'] });
    this.put('/tool', { value: Buffer.alloc(0), perms: root, children: ['xenstored'] });
    this.put('/tool/xenstored', { value: Buffer.alloc(0), perms: root, children: [] });
  }

  /**
   * A store that adopts `nodes` (a replayed journal's map, which the caller gives up), giving
   * each node its generation: one pass, no copy of a 100,000-entry map.
   */
  static adopt(nodes: Map<string, { value: Buffer; perms: readonly XsPerm[]; children: readonly string[]; generation: number }>): NodeStore {
    const s = new NodeStore(nodes);
    for (const n of nodes.values()) {
      n.generation = ++s.generation;
      const owner = n.perms[0]?.domid ?? 0;
      s.owned.set(owner, (s.owned.get(owner) ?? 0) + 1);
    }
    return s;
  }

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  put(path: string, node: Omit<XsNode, 'generation'>, generation = ++this.generation): void {
    const old = this.nodes.get(path);
    if (old) this.count(old, -1);
    const stored: XsNode = { value: node.value, perms: node.perms, children: node.children, generation };
    this.nodes.set(path, stored);
    this.count(stored, 1);
  }

  delete(path: string): void {
    const old = this.nodes.get(path);
    if (!old) return;
    this.count(old, -1);
    this.nodes.delete(path);
  }

  ownedBy(domid: number): number {
    return this.owned.get(domid) ?? 0;
  }

  private count(n: XsNode, delta: number): void {
    const owner = n.perms[0]?.domid ?? 0;
    this.owned.set(owner, (this.owned.get(owner) ?? 0) + delta);
  }

  /** Every path in depth-first order with children in their stored order (snapshots, checks). */
  *walk(path = '/'): Generator<[string, XsNode]> {
    // An explicit stack: nested generators cost a resume per level per node.
    const stack = [path];
    while (stack.length) {
      const at = stack.pop()!;
      const node = this.nodes.get(at);
      if (!node) continue;
      yield [at, node];
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(childPath(at, node.children[i]!));
    }
  }

  /** Structural consistency: each child listed exists, each node is listed by its parent. */
  check(): string[] {
    const problems: string[] = [];
    const reached = new Set<string>();
    for (const [p, n] of this.walk()) {
      reached.add(p);
      const seen = new Set<string>();
      for (const c of n.children) {
        if (seen.has(c)) problems.push(`${p}: duplicate child ${c}`);
        seen.add(c);
        if (!this.nodes.has(childPath(p, c))) problems.push(`${p}: missing child ${c}`);
      }
      if (n.perms.length === 0) problems.push(`${p}: no permissions`);
    }
    for (const p of this.nodes.keys()) if (!reached.has(p)) problems.push(`${p}: orphaned`);
    return problems;
  }
}

/**
 * A transaction's private view: reads fall through to the store and remember the generation
 * they saw; writes stay here until commit. Commit fails (EAGAIN) when anything this
 * transaction looked at has changed in the store since it first looked.
 */
export class TransactionView implements TreeView {
  /** path -> generation first seen in the store (NO_NODE when absent). */
  readonly seen = new Map<string, number>();
  /** path -> new node, or null for deleted. Insertion order is commit order. */
  readonly changes = new Map<string, Omit<XsNode, 'generation'> | null>();
  private readonly ownedDelta = new Map<number, number>();
  /** domid -> nodes the transaction gave it (created, or SET_PERMS to it) minus those it took (changed_domains). */
  readonly entryDelta = new Map<number, number>();
  /**
   * A change failed half way (fail_transaction): C cannot undo what it already did inside the
   * transaction, so committing it answers ENOMEM.
   */
  failed = false;
  /** The transaction set out to create a node (ta_node_created): its quota is checked at commit. */
  nodeCreated = false;

  constructor(
    private readonly store: NodeStore,
    /** quota_trans_nodes: how many distinct nodes it may touch (0: no limit). */
    private readonly maxNodes = 0,
  ) {}

  /** The store's node as first seen: later reads keep seeing that copy, as in C xenstored. */
  private readonly snapshot = new Map<string, XsNode | undefined>();

  /** The store's node as this transaction first saw it (undefined: absent then, or never looked at). */
  firstSeen(path: string): XsNode | undefined {
    return this.snapshot.get(path);
  }

  private look(path: string): XsNode | undefined {
    if (this.snapshot.has(path)) return this.snapshot.get(path);
    // access_node: a transaction that would touch one node too many fails with ENOSPC
    if (this.maxNodes > 0 && this.seen.size >= this.maxNodes) {
      this.failed = true;
      throw new XsError('ENOSPC', 'TRANSACTION', path, 'too many nodes in transaction');
    }
    const n = this.store.get(path);
    this.snapshot.set(path, n);
    this.seen.set(path, n ? n.generation : NO_NODE);
    return n;
  }

  get(path: string): XsNode | undefined {
    if (this.changes.has(path)) {
      const c = this.changes.get(path);
      return c ? { ...c, generation: 0 } : undefined;
    }
    return this.look(path);
  }

  put(path: string, node: Omit<XsNode, 'generation'>): void {
    const old = this.get(path);
    const [was, owner] = [old ? (old.perms[0]?.domid ?? 0) : undefined, node.perms[0]?.domid ?? 0];
    if (was !== undefined) this.count(was, -1);
    this.count(owner, 1);
    if (was !== owner) {
      if (was !== undefined) this.entries(was, -1);
      this.entries(owner, 1);
    }
    this.changes.delete(path);
    this.changes.set(path, node);
  }

  delete(path: string): void {
    const old = this.get(path);
    if (!old) return;
    this.count(old.perms[0]?.domid ?? 0, -1);
    this.entries(old.perms[0]?.domid ?? 0, -1);
    this.changes.delete(path);
    this.changes.set(path, null);
  }

  /** Nodes of `domid` in the committed store, which is what C checks the quota with in a transaction. */
  committedOwnedBy(domid: number): number {
    return this.store.ownedBy(domid);
  }

  /** SET_PERMS lists the old and the new owner among the changed domains even when they are one. */
  touchEntries(...domids: number[]): void {
    for (const d of domids) this.entries(d, 0);
  }

  private entries(domid: number, d: number): void {
    this.entryDelta.set(domid, (this.entryDelta.get(domid) ?? 0) + d);
  }

  ownedBy(domid: number): number {
    return this.store.ownedBy(domid) + (this.ownedDelta.get(domid) ?? 0);
  }

  private count(domid: number, d: number): void {
    this.ownedDelta.set(domid, (this.ownedDelta.get(domid) ?? 0) + d);
  }

  conflicts(): boolean {
    for (const [path, gen] of this.seen) {
      const n = this.store.get(path);
      if ((n ? n.generation : NO_NODE) !== gen) return true;
    }
    return false;
  }

  /** Applies the changes to the store; call only after conflicts() said false. */
  apply(): void {
    for (const [path, node] of this.changes) {
      if (node) this.store.put(path, node);
      else this.store.delete(path);
    }
  }
}

/** Records what an operation changed in the committed store, and how each node was before. */
export class RecordingView implements TreeView {
  /** path -> the node before the operation first changed it (undefined: it did not exist). */
  readonly touched = new Map<string, XsNode | undefined>();
  constructor(private readonly store: NodeStore) {}
  get(path: string): XsNode | undefined {
    return this.store.get(path);
  }
  put(path: string, node: Omit<XsNode, 'generation'>): void {
    this.remember(path);
    this.store.put(path, node);
  }
  delete(path: string): void {
    this.remember(path);
    this.store.delete(path);
  }
  ownedBy(domid: number): number {
    return this.store.ownedBy(domid);
  }
  private remember(path: string): void {
    if (!this.touched.has(path)) this.touched.set(path, this.store.get(path));
  }
}
