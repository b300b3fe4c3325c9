/**
 * The journal's record of one node change, sized by the change rather than by the node: a
 * value or permission list only when it changed, and a child list as the names removed and
 * appended (the way xenstored grows and shrinks child lists), so one write below a directory
 * of thousands of children costs a few bytes, not the whole list. Replay applies records to a
 * mutable tree, so a long run of appends to one child list stays linear.
 */
import { ColoXlError } from '../../errors.js';
import { XsError, formatPerm, parsePerm } from '../messages.js';
import { NodeStore, childPath, type XsNode } from './tree.js';

/**
 * v: value (base64), p: permissions, c: the whole child list, d: children removed, a: children
 * appended (d before a). A field left out is unchanged. Compacted snapshots, and journals of
 * earlier versions, carry v, p and c for every node.
 */
export interface NodeRecord {
  v?: string;
  p?: string[];
  c?: string[];
  d?: string[];
  a?: string[];
}
export type Change = [path: string, record: NodeRecord | null];

const EMPTY = Buffer.alloc(0);
const ROOT_PERMS: XsNode['perms'] = [{ domid: 0, access: 'none' }];

/** A journal line that is not a colo-xl xenstore record (code XS_JOURNAL_FORMAT). */
export class JournalFormatError extends ColoXlError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super('XS_JOURNAL_FORMAT', `${file}:${line}: ${detail}`);
  }
}

/** The full record of a node, as snapshots write it. */
export function fullRecord(n: XsNode): NodeRecord {
  return { v: n.value.toString('base64'), p: n.perms.map(formatPerm), c: [...n.children] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What changed between two states of one node. */
export function changeRecord(before: XsNode | null, after: XsNode | null): NodeRecord | null {
  if (!after) return null;
  if (!before) return fullRecord(after);
  const r: NodeRecord = {};
  if (before.value !== after.value && !before.value.equals(after.value)) r.v = after.value.toString('base64');
  const perms = after.perms.map(formatPerm);
  if (before.perms !== after.perms && !sameList(before.perms.map(formatPerm), perms)) r.p = perms;
  if (!sameList(before.children, after.children)) Object.assign(r, childDelta(before.children, after.children));
  return r;
}

function childDelta(old: readonly string[], now: readonly string[]): NodeRecord {
  const nowSet = new Set(now);
  const oldSet = new Set(old);
  const d = old.filter((c) => !nowSet.has(c));
  const a = now.filter((c) => !oldSet.has(c));
  // Removals and appends explain the new list only if the survivors kept their order and the
  // new names came last; otherwise (never done by xenstored, but cheap to allow) say it all.
  let i = 0;
  for (const c of old) {
    if (!nowSet.has(c)) continue;
    if (now[i++] !== c) return { c: [...now] };
  }
  const r: NodeRecord = {};
  if (d.length) r.d = d;
  if (a.length) r.a = a;
  return r;
}

/** A node under replay; it becomes the store's node as it is (NodeStore.adopt). */
interface WorkNode {
  value: Buffer;
  perms: XsNode['perms'];
  children: string[];
  generation: number;
}

/** A tree under replay: plain mutable nodes, turned into a NodeStore once at the end. */
export class ReplayTree {
  private readonly nodes = new Map<string, WorkNode>();
  /** Parsed permission lists by their text: most nodes share a handful, and lists are immutable. */
  private readonly permsByText = new Map<string, XsNode['perms']>();

  constructor(initial: NodeStore) {
    for (const [p, n] of initial.nodes) this.nodes.set(p, { value: n.value, perms: n.perms, children: [...n.children], generation: 0 });
  }

  private perms(list: string[]): XsNode['perms'] {
    const key = list.join(',');
    let perms = this.permsByText.get(key);
    if (!perms) this.permsByText.set(key, (perms = list.map(parsePerm)));
    return perms;
  }

  apply(path: string, r: NodeRecord | null, file: string, line: number): void {
    if (typeof path !== 'string' || (r !== null && typeof r !== 'object')) throw new JournalFormatError(file, line, 'not a colo-xl xenstore journal record');
    if (!r) {
      this.nodes.delete(path);
      return;
    }
    let n = this.nodes.get(path);
    if (!n) {
      n = { value: EMPTY, perms: ROOT_PERMS, children: [], generation: 0 };
      this.nodes.set(path, n);
    }
    try {
      if (r.v !== undefined) n.value = Buffer.from(r.v, 'base64');
      if (r.p !== undefined) n.perms = this.perms(r.p);
    } catch (e) {
      if (e instanceof XsError) throw new JournalFormatError(file, line, e.message);
      throw e;
    }
    // The parsed record is ours alone: its arrays can become the node's.
    if (r.c !== undefined) n.children = r.c;
    if (r.d?.length) {
      const gone = new Set(r.d);
      n.children = n.children.filter((c) => !gone.has(c));
    }
    if (r.a) for (const c of r.a) n.children.push(c);
  }

  /**
   * Restores tree consistency (a crash can only tear the last line, but be safe): duplicate
   * and dangling child names are dropped, nodes without a parent removed, unlisted ones
   * listed. Linear in the size of the tree.
   */
  toStore(): NodeStore {
    for (const [path, n] of this.nodes) {
      if (n.children.length === 0) continue;
      const seen = new Set<string>();
      const kept = n.children.filter((c) => !seen.has(c) && (seen.add(c), this.nodes.has(childPath(path, c))));
      if (kept.length !== n.children.length) n.children = kept;
    }
    const listed = new Map<string, Set<string>>();
    // Parents before children, so an orphan's descendants go with it; sorting is needed only
    // when there is an orphan at all.
    const paths = [...this.nodes.keys()];
    const orphaned = paths.some((p) => p !== '/' && !this.nodes.has(p.slice(0, Math.max(1, p.lastIndexOf('/')))));
    const byDepth = orphaned ? paths.sort((a, b) => a.length - b.length) : paths;
    for (const path of byDepth) {
      if (path === '/') continue;
      const i = path.lastIndexOf('/');
      const parent = i === 0 ? '/' : path.slice(0, i);
      const pn = this.nodes.get(parent);
      if (!pn) {
        this.nodes.delete(path);
        continue;
      }
      const name = path.slice(i + 1);
      // Most parents list few children: a linear look is cheaper than a Set until they grow.
      let names = listed.get(parent);
      if (!names && pn.children.length > 16) listed.set(parent, (names = new Set(pn.children)));
      if (!(names ? names.has(name) : pn.children.includes(name))) {
        names?.add(name);
        pn.children.push(name);
      }
    }
    if (!this.nodes.has('/')) this.nodes.set('/', { value: EMPTY, perms: ROOT_PERMS, children: [], generation: 0 });
    return NodeStore.adopt(this.nodes);
  }
}
