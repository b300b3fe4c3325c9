/** Watch event delivery (xenstored_watch.c). */
import { XsOp, domainPath, isSubpath, type XsPerm } from '../messages.js';
import type { ServerConnection } from './connection.js';
import { Perm, permForCaller, type ChangeEvent } from './ops.js';
import { NO_NODE, type TransactionView } from './tree.js';

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

// fire_watches: a change reaches watches on the node or above it (or only those exactly on it,
// for the nodes removed below the one RM named), if the watcher may read the node (before or
// after a permission change)
export function fireWatches(connections: Iterable<ServerConnection>, events: readonly ChangeEvent[]): void {
  for (const e of events) {
    for (const c of connections) {
      if (!c.privileged && !mayRead(c, e.perms) && !mayRead(c, e.oldPerms)) continue;
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
 * At commit C xenstored fires once per changed node, in the order the transaction first touched
 * the nodes (finalize_transaction walks its accessed list); the event reaches only exact
 * watches if every change to the node did, and a node the transaction created and removed again
 * fires nothing.
 */
export function commitEvents(view: TransactionView, events: readonly ChangeEvent[]): ChangeEvent[] {
  const last = new Map<string, ChangeEvent>();
  for (const e of events) {
    const before = last.get(e.path);
    if (e.removed && view.seen.get(e.path) === NO_NODE) last.delete(e.path);
    else last.set(e.path, before ? { ...e, exact: before.exact && e.exact } : e);
  }
  const out: ChangeEvent[] = [];
  for (const path of view.seen.keys()) {
    const e = last.get(path);
    if (e) {
      out.push(e);
      last.delete(path);
    }
  }
  return out.concat([...last.values()]);
}
