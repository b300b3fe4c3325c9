/**
 * Fuzz: at least 100,000 random and mutated packets over live unix-socket connections to the
 * embedded daemon (bounded in time). Every packet must get exactly one reply on its connection,
 * except after a deliberately broken header, which may only cost that one connection; another
 * client keeps being served, and the tree stays structurally sound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from '../../lib/xenstore/client.js';
import { PAYLOAD_MAX, XsOp, type Packet } from '../../lib/xenstore/messages.js';
import { PacketParser } from '../../lib/xenstore/parser.js';
import { serializePacket } from '../../lib/xenstore/serializer.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { xorshift32 } from '../support/rng.js';

const TARGET_PACKETS = 100_000;
const TIME_BUDGET_MS = 45_000;

const rng = xorshift32;

const PATHS = ['/', '/fuzz', '/fuzz/a', '/fuzz/a/b', '/fuzz/c', '/fuzz/a/b/c/d', 'rel', 'rel/x', '@introduceDomain', '@releaseDomain', '', '//', '/fuzz/', '/fuzz/ bad', '/fuzz/' + 'x'.repeat(2100), '/tool/xenstored', '/local/domain/3/x'];
const WORDS = ['0', '1', '-1', '3', '65535', '4294967296', 'x', 'T', 'F', 'r1', 'n0', 'b3', 'w65535', 'z9', 'help', 'check', 'quota', 'print', ''];

function generator(random: () => number): (reqId: number) => Packet {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const strings = (...parts: string[]): Buffer => Buffer.from(parts.map((p) => `${p}\0`).join(''));
  const ops = [1, 2, 3, 5, 6, 7, 10, 11, 11, 11, 12, 13, 13, 14, 17, 18, 19, 22, 0, 8, 9, 21];
  return (reqId) => {
    let type = pick(ops);
    let payload: Buffer;
    switch (type) {
      case XsOp.WRITE:
        payload = Buffer.concat([strings(pick(PATHS)), random() < 0.5 ? Buffer.from(pick(WORDS)) : bytes(Math.floor(random() * 300))]);
        break;
      case XsOp.SET_PERMS:
        payload = strings(pick(PATHS), ...Array.from({ length: Math.floor(random() * 7) }, () => pick(WORDS)));
        break;
      case XsOp.TRANSACTION_END:
      case XsOp.GET_DOMAIN_PATH:
      case XsOp.IS_DOMAIN_INTRODUCED:
      case XsOp.RESUME:
      case XsOp.RELEASE:
      case XsOp.CONTROL:
        payload = strings(pick(WORDS));
        break;
      case XsOp.INTRODUCE:
      case XsOp.SET_TARGET:
      case XsOp.DIRECTORY_PART:
        payload = strings(...Array.from({ length: Math.floor(random() * 4) }, () => pick(WORDS)));
        break;
      case XsOp.UNWATCH:
        payload = strings(pick(PATHS), pick(WORDS));
        break;
      default:
        payload = strings(pick(PATHS));
    }
    let txId = random() < 0.7 ? 0 : Math.floor(random() * 6);
    // Mutations: flipped bytes, lost NUL, odd types and transaction ids, random bodies.
    const m = random();
    if (m < 0.1 && payload.length) payload[Math.floor(random() * payload.length)] = Math.floor(random() * 256);
    else if (m < 0.18) payload = payload.subarray(0, Math.max(0, payload.length - 1));
    else if (m < 0.22) type = Math.floor(random() * 40);
    else if (m < 0.24) type = Math.floor(random() * 0x100000000);
    else if (m < 0.27) txId = Math.floor(random() * 0x100000000);
    else if (m < 0.32) payload = bytes(Math.floor(random() * 200));
    else if (m < 0.325) payload = bytes(PAYLOAD_MAX);
    // Watches fan out events: keep them rare so the run stays about requests.
    if (random() < 0.004) {
      type = XsOp.WATCH;
      payload = strings(pick(PATHS), `tok${reqId}`);
    }
    return { type, reqId, txId, payload };
  };
}

/** One fuzzing connection: sends `packets` in bursts and counts the replies, by req_id. */
async function fuzzConnection(path: string, packets: Packet[], breakAtEnd: boolean): Promise<{ replies: number; dropped: boolean }> {
  const sock: Socket = connect(path);
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
  const parser = new PacketParser();
  const pending = new Set(packets.map((p) => p.reqId));
  let replies = 0;
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (dropped: boolean): void => {
      if (finished) return;
      finished = true;
      sock.destroy();
      resolve({ replies, dropped });
    };
    sock.on('data', (d: Buffer) => {
      for (const p of parser.push(d)) {
        if (p.type === XsOp.WATCH_EVENT && p.reqId === 0) continue;
        if (!pending.delete(p.reqId)) return reject(new Error(`reply for unknown or repeated req_id ${p.reqId}`));
        replies++;
      }
      if (pending.size === 0) {
        if (!breakAtEnd) return finish(false);
        // A header announcing an impossible length: the server may only drop this connection.
        const bad = Buffer.alloc(16);
        bad.writeUInt32LE(XsOp.READ, 0);
        bad.writeUInt32LE(PAYLOAD_MAX + 1 + Math.floor(Math.random() * 1e6), 12);
        sock.write(bad);
      }
    });
    sock.on('close', () => {
      if (pending.size) reject(new Error(`connection closed with ${pending.size} requests unanswered`));
      else finish(true);
    });
    sock.on('error', () => undefined);
    for (let i = 0; i < packets.length; i += 200) sock.write(Buffer.concat(packets.slice(i, i + 200).map(serializePacket)));
  });
}

describe('fuzz: embedded xenstored under random and mutated packets', function () {
  this.timeout(TIME_BUDGET_MS + 30_000);
  let dir: string;
  let daemon: EmbeddedXenstored;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-fuzz-'));
  });
  after(async () => {
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ≥${TARGET_PACKETS} packets on live connections without corrupting the tree`, async () => {
    const seed = (Date.now() ^ (process.pid << 8)) >>> 0;
    const random = rng(seed);
    const gen = generator(random);
    daemon = new EmbeddedXenstored();
    const socket = join(dir, 'socket');
    await daemon.listen(socket);
    const witness = new XsClient(await UnixSocketTransport.connect(socket));
    await witness.write('/witness/value', 'before');

    const started = Date.now();
    let sent = 0;
    let replies = 0;
    let drops = 0;
    let reqId = 1;
    try {
      while (sent < TARGET_PACKETS && Date.now() - started < TIME_BUDGET_MS) {
        // Four connections at a time, 1000 packets each; one in four ends with a broken header.
        const batch = Array.from({ length: 4 }, (_, k) => {
          const packets = Array.from({ length: 1000 }, () => gen(reqId++));
          sent += packets.length;
          return fuzzConnection(socket, packets, k === 0);
        });
        for (const r of await Promise.all(batch)) {
          replies += r.replies;
          if (r.dropped) drops++;
        }
        // The unrelated client is still served, and what it wrote is intact.
        assert.equal(await witness.read('/witness/value'), 'before');
      }
    } catch (e) {
      throw new Error(`fuzz seed ${seed}: ${(e as Error).message}`);
    }
    console.log(`      ${sent} packets, ${replies} replies, ${drops} connections dropped (broken headers), ${Date.now() - started} ms, seed ${seed}`);
    assert.ok(sent >= TARGET_PACKETS, `only ${sent} packets within ${TIME_BUDGET_MS} ms (seed ${seed})`);
    assert.equal(replies, sent, `seed ${seed}`);
    assert.deepEqual(daemon.core.store.check(), [], `seed ${seed}`);
    assert.equal(await witness.control('check'), 'OK');
    await witness.write('/witness/after', 'ok');
    assert.equal(await witness.read('/witness/after'), 'ok');
    await witness.close();
  });
});
