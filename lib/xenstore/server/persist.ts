/**
 * Durable state for the embedded xenstored: an append-only journal of committed changes, one
 * JSON line per commit (a transaction is one line, so it lands whole or not at all), written
 * and fdatasync'ed before the client hears "OK". On open the journal is replayed, a torn last
 * line is dropped, and the result is compacted into a fresh file by atomic rename.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatPerm, parsePerm } from '../messages.js';
import type { Journal } from './core.js';
import { NodeStore, childPath, type XsNode } from './tree.js';

interface NodeRecord {
  v: string;
  p: string[];
  c: string[];
}
type Change = [string, NodeRecord | null];

function encode(n: XsNode | null): NodeRecord | null {
  return n && { v: n.value.toString('base64'), p: n.perms.map(formatPerm), c: [...n.children] };
}

function decode(r: NodeRecord): Omit<XsNode, 'generation'> {
  return { value: Buffer.from(r.v, 'base64'), perms: r.p.map(parsePerm), children: r.c };
}

/** Restores tree consistency after replay: unlisted nodes get listed, dangling names dropped. */
function repair(store: NodeStore): void {
  for (const [path, n] of [...store.nodes]) {
    const children = n.children.filter((c, i) => store.nodes.has(childPath(path, c)) && n.children.indexOf(c) === i);
    if (children.length !== n.children.length) store.put(path, { ...n, children });
  }
  for (const path of [...store.nodes.keys()].sort((a, b) => a.length - b.length)) {
    if (path === '/') continue;
    const i = path.lastIndexOf('/');
    const parent = i === 0 ? '/' : path.slice(0, i);
    const name = path.slice(i + 1);
    const pn = store.nodes.get(parent);
    if (!pn) store.delete(path);
    else if (!pn.children.includes(name)) store.put(parent, { ...pn, children: [...pn.children, name] });
  }
}

export class FileJournal implements Journal {
  private fd: number;
  private lines = 0;

  private constructor(
    readonly path: string,
    readonly store: NodeStore,
    private readonly compactEvery: number,
  ) {
    this.fd = -1;
    this.compact();
  }

  /** Loads `path` (if it exists) into a fresh store and opens it for appending. */
  static open(path: string, opts: { compactEvery?: number } = {}): FileJournal {
    const store = new NodeStore();
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      // The last element is "" after a complete file, or a torn append (no newline yet): dropped.
      // A bad complete line is corruption, or not our file: refuse rather than compact it away.
      for (const [i, line] of lines.slice(0, -1).entries()) {
        let changes: Change[] | undefined;
        try {
          changes = (JSON.parse(line) as { c?: Change[] }).c;
        } catch {
          changes = undefined;
        }
        if (!Array.isArray(changes)) throw new Error(`${path}:${i + 1}: not a colo-xl xenstore journal record`);
        for (const [p, r] of changes) {
          if (r) store.put(p, decode(r));
          else store.delete(p);
        }
      }
      repair(store);
    }
    return new FileJournal(path, store, opts.compactEvery ?? 20_000);
  }

  commit(changes: ReadonlyArray<readonly [string, XsNode | null]>): void {
    const line = `${JSON.stringify({ c: changes.map(([p, n]) => [p, encode(n)]) })}\n`;
    writeSync(this.fd, line);
    fdatasyncSync(this.fd);
    if (++this.lines >= this.compactEvery) this.compact();
  }

  /** Writes the whole tree to a new file and renames it over the journal. */
  compact(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const all: Change[] = [...this.store.walk()].map(([p, n]) => [p, encode(n)]);
    const fd = openSync(tmp, 'w', 0o600);
    writeSync(fd, `${JSON.stringify({ c: all })}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    const dfd = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.lines = 0;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
