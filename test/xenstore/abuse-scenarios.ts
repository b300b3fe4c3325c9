/**
 * The abuses of abuse.test.ts, each against a daemon's socket with a deaf abuser connected:
 * what the abuser does, what the well-behaved client must still get, and the check after.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsOp } from '../../lib/xenstore/messages.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { startRealXenstored } from '../support/real-xenstored.js';
import { packet, pour } from './abuse-rig.js';
import { startCliDaemon } from './cli-daemon.js';
import { eventWithin } from './watch-wait.js';

export interface Daemon {
  pid: number;
  socket: string;
  stop(): Promise<void>;
}

export type Kind = 'colo-xl' | 'C 4.17';

export async function startDaemon(kind: Kind, dir: string): Promise<Daemon> {
  if (kind === 'C 4.17') {
    const c = await startRealXenstored();
    return { pid: c.pid, socket: c.socketPath, stop: () => c.stop() };
  }
  const d = await startCliDaemon(join(dir, `xs-${Date.now()}.sock`));
  return { pid: d.child.pid!, socket: d.socket, stop: () => d.stop() };
}

async function client(socket: string): Promise<XsClient> {
  return new XsClient(await UnixSocketTransport.connect(socket), { timeoutMs: 15_000 });
}

/** What the well-behaved client saw while the abuse went on. */
export interface Served {
  ops: number;
  maxLatencyMs: number;
}

/** Round trips of a good client (write, read back, and a watch event) until `done()`. */
async function behave(xs: XsClient, tag: string, done: () => boolean, minOps: number): Promise<Served> {
  const w = await xs.watch(`/good/${tag}`, `good-${tag}`);
  await eventWithin(w, 15_000);
  let ops = 0;
  let maxLatencyMs = 0;
  try {
    while (ops < minOps || !done()) {
      const t0 = Date.now();
      await xs.write(`/good/${tag}/v`, String(ops));
      assert.equal(await xs.read(`/good/${tag}/v`), String(ops));
      const ev = await eventWithin(w, 15_000);
      assert.ok(ev, `good client ${tag}: no watch event for its own write ${ops}`);
      maxLatencyMs = Math.max(maxLatencyMs, Date.now() - t0);
      ops++;
      if (ops > 100_000) break;
    }
  } finally {
    await w.close();
  }
  return { ops, maxLatencyMs };
}

async function checkTree(xs: XsClient, tag: string, served: Served): Promise<void> {
  assert.equal((await xs.control('check')).replace(/\0$/, ''), 'OK');
  assert.equal(await xs.read(`/good/${tag}/v`), String(served.ops - 1));
}

/** A good client's service while `writer` runs (until `done`), then the tree checked against it. */
async function servedWhileWriting(xs: XsClient, sock: string, tag: string, writer: Promise<void>, done: () => boolean): Promise<Served> {
  const served = await behave(await client(sock), tag, done, 20);
  await writer;
  await checkTree(xs, tag, served);
  return served;
}

/**
 * 2,000 watches on one directory, never read, while a writer keeps changing nodes below it:
 * `hot` nodes over and over (C coalesces identical pending events, and so does colo-xl), or
 * `distinct` new nodes (every event differs: only a bound on the queue helps).
 */
function manyWatches(writes: number, distinct: boolean) {
  return async (sock: string, deaf: Socket): Promise<Served> => {
    const xs = await client(sock);
    try {
      await xs.write('/abuse/seed', '');
      await pour(deaf, 2000, (i) => packet(XsOp.WATCH, ['/abuse', `t${i}`], i + 1), () => false);
      let n = 0;
      const writer = (async () => {
        for (; n < writes; n++) await xs.write(distinct ? `/abuse/n${n}` : `/abuse/hot${n % 5}`, String(n));
      })();
      return await servedWhileWriting(xs, sock, 'watches', writer, () => n >= writes);
    } finally {
      await xs.close();
    }
  };
}

/** 100,000 requests sent without reading a single reply. */
async function manyRequests(sock: string, deaf: Socket): Promise<Served> {
  const xs = await client(sock);
  try {
    let finished = false;
    let stop = false;
    const flood = pour(
      deaf,
      100_000,
      (i) => (i % 2 ? packet(XsOp.WRITE, [`/abuse/r${i % 1000}`, 'v'.repeat(64)], i) : packet(XsOp.READ, ['/tool'], i)),
      () => stop,
    ).then(() => (finished = true));
    // Served while the flood lasts: until it is all sent, or for 5 s of being pushed back.
    const until = Date.now() + 5000;
    const served = await behave(await client(sock), 'requests', () => finished || Date.now() > until, 200);
    // The abuser is pushed back (its socket stops draining) or done: either way, move on.
    stop = true;
    await flood;
    await checkTree(xs, 'requests', served);
    return served;
  } finally {
    await xs.close();
  }
}

/** One watch on a directory, never read, while `writes` distinct nodes are written below it. */
function floodedWatcher(writes: number) {
  return async (sock: string, deaf: Socket): Promise<Served> => {
    const xs = await client(sock);
    try {
      await pour(deaf, 1, () => packet(XsOp.WATCH, ['/flood', 'deaf'], 1), () => false);
      let n = 0;
      const writer = (async () => {
        for (; n < writes; n += 500) {
          await Promise.all(Array.from({ length: 500 }, (_, k) => xs.write(`/flood/d${Math.floor((n + k) / 1000)}/n${n + k}`, 'payload')));
        }
      })();
      return await servedWhileWriting(xs, sock, 'flood', writer, () => n >= writes);
    } finally {
      await xs.close();
    }
  };
}

export interface Abuse {
  name: string;
  run(sock: string, deaf: Socket): Promise<Served>;
  /**
   * Run against colo-xl only: C xenstored looks for a duplicate of every new event along the
   * whole pending queue, so under these it slows quadratically (120 distinct writes under 2,000
   * deaf watches took it over 160 s) and would not finish in a test's time.
   */
  coloOnly?: boolean;
}

export const ABUSES: Abuse[] = [
  { name: '2,000 watches, never reading', run: manyWatches(150, false) },
  { name: '100,000 requests, replies unread', run: manyRequests },
  { name: 'flooded watcher, never reading', run: floodedWatcher(10_000) },
  { name: '2,000 watches, distinct events', run: manyWatches(600, true), coloOnly: true },
  { name: 'flooded watcher, 100,000 events', run: floodedWatcher(100_000), coloOnly: true },
];
