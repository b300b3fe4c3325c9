/**
 * Durable state for the embedded xenstored: an append-only journal of committed changes, one
 * JSON line per commit (a transaction is one line, so it lands whole or not at all), written
 * and fdatasync'ed before the client hears "OK". On open the journal is replayed and a torn last
 * line cut off; every compactEvery commits the whole tree is written to a fresh file that
 * replaces the journal by atomic rename.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Journal, NodeChange } from './core.js';
import { JournalFormatError, ReplayTree, changeRecord, fullRecord, type Change } from './journal-record.js';
import { NodeStore } from './tree.js';

export class FileJournal implements Journal {
  private fd: number;
  private lines = 0;

  /** `replayed`: complete lines already in the file, which is then appended to as it is. */
  private constructor(
    readonly path: string,
    readonly store: NodeStore,
    private readonly compactEvery: number,
    replayed?: number,
  ) {
    this.fd = -1;
    if (replayed === undefined || replayed >= compactEvery) this.compact();
    else {
      this.fd = openSync(path, 'a', 0o600);
      this.lines = replayed;
    }
  }

  /** Loads `path` (if it exists) into a fresh store and opens it for appending. */
  static open(path: string, opts: { compactEvery?: number } = {}): FileJournal {
    let store = new NodeStore();
    let replayed: number | undefined;
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      const tree = new ReplayTree(store);
      // The last line is "" after a complete file, or a torn append (no newline yet): dropped.
      // A bad complete line is corruption, or not our file: refuse rather than compact it away.
      let start = 0;
      let complete = 0;
      let snapshotBytes = 0;
      for (let line = 1, nl = text.indexOf('\n'); nl >= 0; line++, start = nl + 1, nl = text.indexOf('\n', start)) {
        let changes: Change[] | undefined;
        try {
          changes = (JSON.parse(text.slice(start, nl)) as { c?: Change[] }).c;
        } catch {
          changes = undefined;
        }
        if (!Array.isArray(changes)) throw new JournalFormatError(path, line, 'not a colo-xl xenstore journal record');
        for (const ch of changes) {
          if (!Array.isArray(ch)) throw new JournalFormatError(path, line, 'not a colo-xl xenstore journal record');
          tree.apply(ch[0], ch[1], path, line);
        }
        complete = line;
        if (line === 1) snapshotBytes = nl + 1;
      }
      store = tree.toStore();
      // A torn last append is cut off, so the next one starts on a line of its own; rewriting
      // the whole tree here instead would cost a restart the tree's size (compaction does
      // that, every compactEvery commits).
      if (start < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, start)));
      // Compact now anyway when the tail is far bigger than a snapshot of the tree would be
      // (about 100 bytes a node): a journal of an earlier version, whose records carried
      // whole child lists, say.
      const heavyTail = start - snapshotBytes > 2 * Math.max(snapshotBytes, store.nodes.size * 100) + 8 * 1024 * 1024;
      replayed = text.length === 0 || heavyTail ? undefined : complete;
    }
    return new FileJournal(path, store, opts.compactEvery ?? 20_000, replayed);
  }

  /** One line per commit, each node's record only what changed (see journal-record.ts). */
  commit(changes: readonly NodeChange[]): void {
    const line = `${JSON.stringify({ c: changes.map(([p, before, after]) => [p, changeRecord(before, after)]) })}\n`;
    writeSync(this.fd, line);
    fdatasyncSync(this.fd);
    if (++this.lines >= this.compactEvery) this.compact();
  }

  /** Writes the whole tree to a new file and renames it over the journal. */
  compact(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const all: Change[] = [...this.store.walk()].map(([p, n]) => [p, fullRecord(n)]);
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
