/** Watch event delivery (xenstored_watch.c). */
import { XsOp, domainPath, isSubpath, parentPath, type XsPerm } from '../messages.js';
import type { ServerConnection } from './connection.js';
import { Perm, permForCaller, type ChangeEvent } from './ops.js';
import type { NodeStore, TransactionView } from './tree.js';

/** Path and token as latin1 strings, so the token's bytes go back exactly as they came. */
export function sendWatchEvent(c: ServerConnection, path: string, token: string): void {
  if (c.closed) return;
  const payload = Buffer.from(`${path}\0${token}\0`, 'latin1');
  c.event({ type: XsOp.WATCH_EVENT, reqId: 0, txId: 0, payload }, path.startsWith('@'));
}

/** The path as the watcher registered it: relative watches hear relative paths. */
function reported(c: ServerConnection, given: string, path: string): string {
  if (given.startsWith('/') || given.startsWith('@')) return path;
  const home = `${domainPath(c.domid)}/`;
  return path.startsWith(home) ? path.slice(home.length) : path;
}

function mayRead(c: ServerConnection, perms: readonly XsPerm[] | undefined): boolean {
  return !!perms && (permForCaller({ domid: c.domid, privileged: c.privileged, target: c.target }, perms) & Perm.READ) !== 0;
}

// watch_permitted: the old permissions (if any), else the node's, else its parent's must let the
// watcher read; a node that no longer exists and had no old permissions fires nothing.
function permitted(c: ServerConnection, e: ChangeEvent): boolean {
  if (c.privileged) return e.oldPerms !== undefined || e.perms !== undefined;
  if (mayRead(c, e.oldPerms)) return true;
  return e.perms !== undefined && (mayRead(c, e.perms) || mayRead(c, e.parentPerms));
}

// fire_watches: a change reaches watches on the node or above it (or only those exactly on it,
// for the nodes removed below the one RM named), if watch_permitted lets the watcher see it
export function fireWatches(connections: Iterable<ServerConnection>, events: readonly ChangeEvent[]): void {
  for (const e of events) {
    for (const c of connections) {
      if (!permitted(c, e)) continue;
      for (const w of c.watches) {
        if (e.exact ? w.path === e.path : isSubpath(e.path, w.path)) sendWatchEvent(c, reported(c, w.given, e.path), w.token);
      }
    }
  }
}

/** @introduceDomain / @releaseDomain: exact watches only, guarded by the special node's perms. */
export function fireSpecialWatch(connections: Iterable<ServerConnection>, name: string, perms: readonly XsPerm[]): void {
  for (const c of connections) {
    if (!c.privileged && !mayRead(c, perms)) continue;
    for (const w of c.watches) if (w.path === name) sendWatchEvent(c, name, w.token);
  }
}

/**
 * The events of a committed transaction (finalize_transaction): one per node the transaction
 * queued an event for, in the order it first accessed the nodes (reads included); exact only if
 * every queued event for it was (queue_watches). It is checked as fire_watches is called there:
 * with the node's permissions as the transaction first saw it (none if it was absent then) and
 * the committed node as it is now, so a node that was absent at first access and is absent
 * after the commit fires nothing, while one removed and created again inside the transaction
 * does fire. Call after apply().
 */
export function commitEvents(view: TransactionView, store: NodeStore, events: readonly ChangeEvent[]): ChangeEvent[] {
  const exact = new Map<string, boolean>();
  for (const e of events) exact.set(e.path, (exact.get(e.path) ?? true) && e.exact);
  const out: ChangeEvent[] = [];
  const paths = [...view.seen.keys(), ...[...exact.keys()].filter((p) => !view.seen.has(p))];
  for (const path of paths) {
    const ex = exact.get(path);
    if (ex === undefined) continue;
    const now = store.get(path);
    out.push({
      path,
      exact: ex,
      oldPerms: view.firstSeen(path)?.perms,
      perms: now?.perms,
      parentPerms: now ? store.get(parentPath(path))?.perms : undefined,
    });
  }
  return out;
}
