import type { XsPerm } from '../messages.js';

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
  readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();
  generation = 0;

  constructor() {
    const root: XsPerm[] = [{ domid: 0, access: 'none' }];
    // C xenstored's initial layout: / with /tool/xenstored below it, all n0.
    this.put('/', { value: Buffer.alloc(0), perms: root, children: ['tool'] });
    this.put('/tool', { value: Buffer.alloc(0), perms: root, children: ['xenstored'] });
    this.put('/tool/xenstored', { value: Buffer.alloc(0), perms: root, children: [] });
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
    const node = this.nodes.get(path);
    if (!node) return;
    yield [path, node];
    for (const c of node.children) yield* this.walk(childPath(path, c));
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

  constructor(private readonly store: NodeStore) {}

  /** The store's node as first seen: later reads keep seeing that copy, as in C xenstored. */
  private readonly snapshot = new Map<string, XsNode | undefined>();

  private look(path: string): XsNode | undefined {
    if (this.snapshot.has(path)) return this.snapshot.get(path);
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
    if (old) this.count(old.perms[0]?.domid ?? 0, -1);
    this.count(node.perms[0]?.domid ?? 0, 1);
    this.changes.delete(path);
    this.changes.set(path, node);
  }

  delete(path: string): void {
    const old = this.get(path);
    if (!old) return;
    this.count(old.perms[0]?.domid ?? 0, -1);
    this.changes.delete(path);
    this.changes.set(path, null);
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

/** Records what an operation changed in the committed store, for the journal. */
export class RecordingView implements TreeView {
  readonly touched = new Set<string>();
  constructor(private readonly store: NodeStore) {}
  get(path: string): XsNode | undefined {
    return this.store.get(path);
  }
  put(path: string, node: Omit<XsNode, 'generation'>): void {
    this.touched.add(path);
    this.store.put(path, node);
  }
  delete(path: string): void {
    this.touched.add(path);
    this.store.delete(path);
  }
  ownedBy(domid: number): number {
    return this.store.ownedBy(domid);
  }
}
